import {
  connectedWithErrors as connected,
  gateway,
  useFakeGateway,
} from '../test/support/harness.js';
import type { ChatClient, MessageDto } from './index.js';

// Requests, edits and deletions, blocks and reports as a device shows them, on the fake clock.
useFakeGateway();

const bodies = (c: ChatClient, id: string) =>
  c
    .conversation(id)!
    .messages.map((m) => [m.body, m.editedAt !== undefined, m.deletedAt !== undefined]);

describe('edit and delete', () => {
  it('edit() shows the new text on this device and, live, on every other one', async () => {
    const conv = gateway.open(['ana', 'ravi']);
    const sent = gateway.append(conv.id, 'ana', 'helo');
    const { c: ana, errors } = await connected('ana');
    const { c: ravi } = await connected('ravi');
    await Promise.all([ana.open(conv.id), ravi.open(conv.id)]);
    const updates: MessageDto[] = [];
    ravi.on('message:updated', ({ message }) => updates.push(message));

    const edited = await ana.edit(conv.id, sent.id, 'hello');
    await gateway.advance(0);
    expect(edited).toMatchObject({ id: sent.id, body: 'hello' });
    expect(gateway.calls).toContain(`PATCH /conversations/${conv.id}/messages/${sent.id}`);
    expect(bodies(ana, conv.id)).toEqual([['hello', true, false]]);
    expect(bodies(ravi, conv.id)).toEqual([['hello', true, false]]);
    expect(updates.map((m) => m.body)).toEqual(['hello']);
    expect(errors).toEqual([]);
  });

  it('delete() leaves a tombstone in place of the message, not a gap nor the old text', async () => {
    const conv = gateway.open(['ana', 'ravi']);
    gateway.append(conv.id, 'ravi', 'before');
    const sent = gateway.append(conv.id, 'ana', 'oops');
    gateway.append(conv.id, 'ravi', 'after');
    const { c: ana } = await connected('ana');
    const { c: ravi } = await connected('ravi');
    await Promise.all([ana.open(conv.id), ravi.open(conv.id)]);

    await ana.delete(conv.id, sent.id);
    await gateway.advance(0);
    for (const device of [ana, ravi])
      expect(bodies(device, conv.id)).toEqual([
        ['before', false, false],
        ['', false, true],
        ['after', false, false],
      ]);
  });

  it('a device that was offline replaces its copies with the edited and deleted ones from sync', async () => {
    const conv = gateway.open(['ana', 'ravi']);
    const first = gateway.append(conv.id, 'ana', 'first');
    const second = gateway.append(conv.id, 'ana', 'second');
    const { c: ravi } = await connected('ravi');
    await ravi.open(conv.id);
    for (const socket of gateway.socketsOf('ravi')) socket.drop();
    gateway.edit(conv.id, first.id, 'first, edited');
    gateway.edit(conv.id, second.id, '', true);
    // Back online: the reconnect syncs from the version the device had.
    await gateway.advance(60_000);
    expect(ravi.status.state).toBe('connected');
    expect(bodies(ravi, conv.id)).toEqual([
      ['first, edited', true, false],
      ['', false, true],
    ]);
  });

  it('a refused edit rejects with the server’s code and changes nothing shown', async () => {
    const conv = gateway.open(['ana', 'ravi']);
    const theirs = gateway.append(conv.id, 'ravi', 'mine, not yours');
    const { c: ana } = await connected('ana');
    await ana.open(conv.id);
    await expect(ana.edit(conv.id, theirs.id, 'hacked')).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    expect(bodies(ana, conv.id)).toEqual([['mine, not yours', false, false]]);
  });
});

describe('message requests and blocks', () => {
  it('a request received is listed apart, and accepting moves it into the conversations', async () => {
    const conv = gateway.open(['sam', 'ana'], {
      request: { from: 'sam', to: 'ana', state: 'pending' },
    });
    gateway.append(conv.id, 'sam', 'hi, saw your CV');
    const { c: ana } = await connected('ana');
    const { c: sam } = await connected('sam');
    expect(ana.conversations()).toEqual([]);
    expect((await ana.loadRequests()).map((v) => v.id)).toEqual([conv.id]);
    // A request's messages are not in the unread badge until it is accepted.
    expect([ana.requests()[0]!.unreadCount, ana.totalUnread]).toEqual([1, 0]);
    expect(gateway.calls).toContain('GET /conversations?box=requests&limit=50');
    // The opener sees it among its conversations, waiting.
    expect(sam.conversations().map((v) => [v.id, v.request?.state])).toEqual([
      [conv.id, 'pending'],
    ]);

    const view = await ana.accept(conv.id);
    await gateway.advance(0);
    expect(view.request).toBeUndefined();
    expect(ana.requests()).toEqual([]);
    expect(ana.conversations().map((v) => v.id)).toEqual([conv.id]);
    expect(ana.totalUnread).toBe(1);
    // The opener's device heard it live (conversation:updated).
    expect(sam.conversation(conv.id)!.request).toBeUndefined();
  });

  it('a request sent while the recipient was offline shows once its device is back', async () => {
    const { c: ana } = await connected('ana');
    await ana.loadRequests();
    gateway.handshake = () => 'network';
    gateway.socketsOf('ana')[0]!.drop();
    await gateway.advance(1_000);
    const conv = gateway.open(['sam', 'ana'], {
      request: { from: 'sam', to: 'ana', state: 'pending' },
    });
    gateway.append(conv.id, 'sam', 'hi, saw your CV');
    gateway.handshake = () => undefined;
    await gateway.advance(30_000);
    expect(ana.status.state).toBe('connected');
    expect(ana.requests().map((v) => v.id)).toEqual([conv.id]);
    expect(ana.conversations()).toEqual([]);
  });

  it('declining takes it out of the requests; the opener sees it declined', async () => {
    const conv = gateway.open(['sam', 'ana'], {
      request: { from: 'sam', to: 'ana', state: 'pending' },
    });
    const { c: ana } = await connected('ana');
    const { c: sam } = await connected('sam');
    await ana.loadRequests();
    await ana.decline(conv.id);
    await gateway.advance(0);
    expect(ana.requests()).toEqual([]);
    expect(ana.conversations()).toEqual([]);
    expect(sam.conversation(conv.id)!.request?.state).toBe('declined');
  });

  it('conversation:updated with a block marks the conversation blocked and ends typing shown', async () => {
    const conv = gateway.open(['ana', 'ravi']);
    const { c: ana } = await connected('ana');
    gateway.fanOut(['ana'], 'typing', {
      conversationId: conv.id,
      userId: 'ravi',
      typing: true,
      expiresInMs: 5000,
    });
    expect(ana.conversation(conv.id)!.typing).toEqual(['ravi']);
    gateway.fanOut(['ana'], 'conversation:updated', {
      conversationId: conv.id,
      blocked: true,
      request: null,
    });
    expect(ana.conversation(conv.id)).toMatchObject({ blocked: true, typing: [] });
  });

  it('block, unblock and report call the REST routes', async () => {
    const conv = gateway.open(['ana', 'ravi']);
    const m = gateway.append(conv.id, 'ravi', 'spam');
    const { c: ana } = await connected('ana');
    await ana.block('ravi');
    await ana.unblock('ravi');
    const receipt = await ana.report({ conversationId: conv.id, messageId: m.id, reason: 'spam' });
    expect(receipt).toMatchObject({ id: 'r1', status: 'open' });
    expect(gateway.calls.filter((c) => !c.startsWith('GET'))).toEqual([
      'PUT /users/ravi/block',
      'DELETE /users/ravi/block',
      'POST /reports',
    ]);
  });
});
