/** The process environment merged over `.env` (the environment wins), then validated. */
import { loadConfig, readDotenv, type Config } from './config.js';

export function configFromProcess(): Config {
  return loadConfig({ ...readDotenv(process.env.DOTENV_PATH ?? '.env'), ...process.env });
}
