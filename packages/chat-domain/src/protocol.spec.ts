import { ErrorCode } from './errors.js';
import { SOCKET_PROTOCOL, assertSupportedProtocol } from './protocol.js';

const refusal = (requested: unknown, supported = { current: 3, oldest: 2 }) => {
  try {
    assertSupportedProtocol(requested, supported);
    return undefined;
  } catch (error) {
    return error as { code: string; message: string };
  }
};

describe('the socket protocol check of the handshake', () => {
  it('takes every version from the oldest to the current, and a client that names none', () => {
    expect(refusal(2)).toBeUndefined();
    expect(refusal(3)).toBeUndefined();
    expect(refusal(undefined)).toBeUndefined();
    expect(refusal(SOCKET_PROTOCOL.current, SOCKET_PROTOCOL)).toBeUndefined();
  });

  it('refuses a newer client, naming the gateway as what to update', () => {
    expect(refusal(4)).toEqual(
      expect.objectContaining({
        code: ErrorCode.UnsupportedProtocol,
        message:
          'the client speaks socket protocol 4, this gateway 2–3: update the gateway, or use an older client',
      }),
    );
  });

  it('refuses an older client, naming the client as what to update', () => {
    expect(refusal(1)?.message).toBe(
      'the client speaks socket protocol 1, this gateway 2–3: update the client',
    );
  });

  it.each([['1'], [1.5], [0], [-1], [null], [{}]])('refuses %p as malformed', (value) => {
    expect(refusal(value)).toEqual(
      expect.objectContaining({
        code: ErrorCode.UnsupportedProtocol,
        message: expect.stringMatching(/positive integer/),
      }),
    );
  });
});
