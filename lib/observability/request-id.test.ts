import { describe, expect, it } from 'vitest';
import { requestIdFor } from './request-id';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('requestIdFor', () => {
  it.each(['abc', 'a'.repeat(128), '0f8fad5b-d9cb-469f-a165-70867728950e', 'Root=1-5759e988-bd862e3fe1be46a994272793;x=~!'])('keeps the sane client id %s', (id) => {
    expect(requestIdFor(id)).toBe(id);
  });

  it.each([
    ['absent', undefined], ['null', null], ['empty', ''], ['too long', 'a'.repeat(129)], ['a space', 'a b'],
    ['a newline (log injection)', 'a\nlevel=error'], ['a control character', 'a\u0000'], ['non-ASCII', 'ä'], ['a repeated header', ['a', 'b']],
  ])('makes a new id when the client sent %s', (_, received) => {
    expect(requestIdFor(received as string | string[] | null | undefined)).toMatch(UUID);
  });

  it('makes a different id each time', () => {
    expect(requestIdFor(undefined)).not.toBe(requestIdFor(undefined));
  });
});
