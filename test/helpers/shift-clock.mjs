/**
 * Test-only preload: moves this process's wall clock by TEST_CLOCK_OFFSET_MS (integer ms, may be negative).
 * Shifted: `Date.now()`, `new Date()` with no arguments, and `Date()` called as a function. Everything else is
 * untouched: `new Date(x)`, `Date.parse`, `Date.UTC`, timers, `performance.now()` and `process.hrtime`
 * (so elapsed time and sleeps stay real).
 *
 * Why: tests that lay out whole-UTC-day scenarios from "now" (test/helpers/og-participants.ts) break when the
 * real clock is near midnight UTC. runEntry/startWorld (spawn.ts) load this with NODE_OPTIONS so the bot's
 * process sees noon UTC of the current day plus elapsed time, without changing anything in src/.
 * Never loaded by the bot itself.
 */
const raw = process.env.TEST_CLOCK_OFFSET_MS;
const offset = Number(raw);
if (raw === undefined || !Number.isSafeInteger(offset)) throw new Error(`TEST_CLOCK_OFFSET_MS: not an integer: ${raw}`);

const RealDate = Date;
const now = () => RealDate.now() + offset;
globalThis.Date = new Proxy(RealDate, {
  construct: (target, args, newTarget) => Reflect.construct(target, args.length ? args : [now()], newTarget),
  apply: () => new RealDate(now()).toString(),
  get: (target, key, receiver) => (key === 'now' ? now : Reflect.get(target, key, receiver)),
});
