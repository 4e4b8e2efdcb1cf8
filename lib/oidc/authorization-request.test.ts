import { describe, expect, it } from 'vitest';
import { ThError } from '../errors';
import { parseExtraParams } from './authorization-request';

const code = (fn: () => unknown) => {
  try { fn(); } catch (err) { return err instanceof ThError ? err.code : 'other'; }
  return 'none';
};

describe('parseExtraParams', () => {
  it('accepts the allow-listed keys', () => {
    expect(parseExtraParams([
      { key: 'prompt', value: 'login' }, { key: 'max_age', value: '60' }, { key: 'ui_locales', value: 'fr' },
      { key: 'login_hint', value: 'a@b' }, { key: 'acr_values', value: 'urn:x' }, { key: 'claims', value: '{"id_token":{}}' },
    ])).toEqual({ prompt: 'login', max_age: '60', ui_locales: 'fr', login_hint: 'a@b', acr_values: 'urn:x', claims: '{"id_token":{}}' });
    expect(parseExtraParams(undefined)).toEqual({});
  });

  it('refuses every key that could override the protocol, with invalid_request', () => {
    for (const key of ['state', 'nonce', 'redirect_uri', 'code_challenge', 'code_challenge_method', 'client_id', 'scope', 'response_type', 'response_mode', 'request_uri', '__proto__']) {
      expect(code(() => parseExtraParams([{ key, value: 'x' }])), key).toBe('invalid_request');
    }
  });

  it('refuses malformed input: not an array, duplicate keys, non-string values, a bad max_age', () => {
    expect(code(() => parseExtraParams('prompt=login'))).toBe('invalid_request');
    expect(code(() => parseExtraParams([{ key: 'prompt', value: 'login' }, { key: 'prompt', value: 'none' }]))).toBe('invalid_request');
    expect(code(() => parseExtraParams([{ key: 'prompt', value: 1 }]))).toBe('invalid_request');
    expect(code(() => parseExtraParams([{ key: 'max_age', value: '-1' }]))).toBe('invalid_request');
    expect(code(() => parseExtraParams([null]))).toBe('invalid_request');
  });
});
