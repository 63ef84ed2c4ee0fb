import { connected, gateway, useFakeGateway } from '../test/support/harness.js';

// This user's own organisation of a conversation as the SDK keeps it, on the fake clock: set on
// one device, followed live by another, recovered by a list load and by sync.
useFakeGateway();

describe('organising conversations', () => {
  it('a change on one device shows on the other live, on a new device from the list, never for the other member', async () => {
    const c = gateway.open(['ana', 'ravi']);
    const phone = await connected('ana');
    const laptop = await connected('ana');
    const ravi = await connected('ravi');
    const told: unknown[] = [];
    laptop.on('organised', (e) => told.push(e));

    const answer = phone.organise(c.id, { muted: true, unread: true });
    await gateway.advance(0);
    expect(await answer).toEqual({ muted: true, pinned: false, archived: false, unread: true });
    expect(phone.conversation(c.id)!.organisation).toMatchObject({ muted: true, unread: true });
    expect(laptop.conversation(c.id)!.organisation).toMatchObject({ muted: true, unread: true });
    expect(told).toEqual([
      { conversationId: c.id, muted: true, pinned: false, archived: false, unread: true },
    ]);
    expect(ravi.conversation(c.id)!.organisation).toEqual({
      muted: false,
      pinned: false,
      archived: false,
      unread: false,
    });

    const later = await connected('ana');
    expect(later.conversation(c.id)!.organisation).toMatchObject({ muted: true, unread: true });
  });

  it('a device away learns a change by sync, and that it was undone', async () => {
    const c = gateway.open(['ana', 'ravi']);
    const phone = await connected('ana');
    const laptop = await connected('ana');
    const [, laptopSocket] = gateway.socketsOf('ana');
    laptopSocket!.drop();
    const change = phone.organise(c.id, { archived: true });
    await gateway.advance(0);
    await change;
    expect(laptop.conversation(c.id)!.organisation.archived).toBe(false); // away: not told
    await gateway.advance(5_000); // reconnects and syncs
    expect(laptop.status.state).toBe('connected');
    expect(laptop.conversation(c.id)!.organisation.archived).toBe(true);

    gateway.socketsOf('ana').at(-1)!.drop();
    const undo = phone.organise(c.id, { archived: false });
    await gateway.advance(0);
    await undo;
    await gateway.advance(5_000);
    expect(laptop.conversation(c.id)!.organisation.archived).toBe(false);
  });
});
