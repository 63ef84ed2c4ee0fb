import type { ErrorBody, UserRole } from '@jobsphere/chat-domain';

/** POST /dev/token refused: carries its `{ error: { code, message } }` body. */
export class DevTokenError extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorBody | undefined,
  ) {
    super(body?.message ?? `HTTP ${status}`);
    this.name = this.constructor.name;
  }
}

/** Development only: the gateway signs a token for any user id (`POST /dev/token`). */
export async function mintToken(userId: string, role: UserRole): Promise<string> {
  let response: Response;
  try {
    response = await fetch('/dev/token', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ userId, role }),
    });
  } catch (error) {
    throw new DevTokenError(0, {
      code: 'UNAVAILABLE',
      message: error instanceof Error ? error.message : String(error),
    });
  }
  const json = (await response.json().catch(() => undefined)) as
    { token?: string; error?: ErrorBody } | undefined;
  if (!response.ok || typeof json?.token !== 'string')
    throw new DevTokenError(response.status, json?.error);
  return json.token;
}
