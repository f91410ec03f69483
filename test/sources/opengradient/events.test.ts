import { describe, expect, it } from 'vitest';
import { decodeInference, INFERENCE_TOPICS } from '../../../src/sources/opengradient/events.js';
import { TOPIC0, batchSettlement, individualSettlement, llmChat, llmCompletion, mlInference, oldBatchSettlement } from '../../helpers/og-events.js';

describe('inference events', () => {
  it('asks for exactly the topic0 hashes DATA-SOURCES.md lists', () => {
    expect([...INFERENCE_TOPICS].sort()).toEqual(Object.values(TOPIC0).sort());
  });

  it('reads the mode from the request tuple of each precompile event', () => {
    const cases = [
      [mlInference(0), 'ml', 'vanilla'],
      [mlInference(1), 'ml', 'zkml'],
      [llmChat(2), 'llm_chat', 'tee'],
      [llmCompletion(0), 'llm_completion', 'vanilla'],
      [llmCompletion(9), 'llm_completion', 'unknown'],
    ] as const;
    for (const [log, kind, mode] of cases) {
      expect(decodeInference(log.topics, log.data)).toMatchObject({ ok: true, kind, mode, inferences: 1 });
    }
  });

  it('counts settlements as TEE, a batch by its size', () => {
    const b = batchSettlement(37);
    const i = individualSettlement();
    const o = oldBatchSettlement(4);
    expect(decodeInference(b.topics, b.data)).toMatchObject({ ok: true, kind: 'batch_settlement', mode: 'tee', inferences: 37 });
    expect(decodeInference(i.topics, i.data)).toMatchObject({ ok: true, kind: 'individual_settlement', mode: 'tee', inferences: 1 });
    expect(decodeInference(o.topics, o.data)).toMatchObject({ ok: true, kind: 'batch_settlement', mode: 'tee', inferences: 4 });
  });

  it('reports truncated, odd or non-hex data as undecodable, naming the kind', () => {
    const ml = mlInference(0);
    for (const data of [ml.data.slice(0, 200), `${ml.data}0`, `${ml.data.slice(0, -2)}zz`, '0x'] as const) {
      expect(decodeInference(ml.topics, data as `0x${string}`)).toMatchObject({ ok: false, kind: 'ml' });
    }
    const b = batchSettlement(3);
    expect(decodeInference(b.topics, '0x1234')).toMatchObject({ ok: false, kind: 'batch_settlement' });
  });

  it('leaves other events alone', () => {
    expect(decodeInference(['0x'.padEnd(66, '0') as `0x${string}`], '0x')).toMatchObject({ ok: false, kind: null });
  });
});
