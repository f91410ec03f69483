import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { ConfigError } from '../src/core/errors.js';

describe('config: the operations endpoint', () => {
  it('is off unless HTTP_PORT is set, and listens on loopback by default', () => {
    expect(loadConfig({}).http).toBeNull();
    expect(loadConfig({ HTTP_PORT: '9464' }).http).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(loadConfig({ HTTP_PORT: '9464', HTTP_HOST: '0.0.0.0' }).http).toEqual({ host: '0.0.0.0', port: 9464 });
    expect(loadConfig({ HTTP_HOST: '0.0.0.0' }).http).toBeNull();
  });

  it('refuses a port out of range or a host that is not an address, naming both', () => {
    try {
      loadConfig({ HTTP_PORT: '70000', HTTP_HOST: 'http://x/' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const problems = (err as ConfigError).problems.join('\n');
      expect(problems).toContain("HTTP_PORT: expected a whole number from 0 to 65535 (got '70000')");
      expect(problems).toContain(
        "HTTP_HOST: expected an address to listen on, such as 127.0.0.1 or 0.0.0.0 (got 'http://x/')",
      );
    }
  });
});
