// Message requests: a direct conversation between two people who never talked is a request, and
// its opener may send only a few messages until the recipient accepts. The bench's users are such
// strangers and send far more, so every direct conversation is accepted by its recipient right
// after it is opened, as a person would. Kept here so that rule lives in one place.

/**
 * The recipient accepts a direct conversation, or an invitee a group it was added to by someone
 * who was not a contact (`POST /conversations/:id/accept`). A gateway from before message
 * requests (and the bare relay) has no such route and answers 404, and one where there is
 * nothing to answer answers 409: nothing to accept either way.
 */
export async function acceptAsRecipient(
  baseUrl: string,
  recipientToken: string,
  conversationId: string,
): Promise<void> {
  const res = await fetch(`${baseUrl}/conversations/${encodeURIComponent(conversationId)}/accept`, {
    method: 'POST',
    headers: { authorization: `Bearer ${recipientToken}` },
  });
  await res.arrayBuffer();
  if (res.ok || res.status === 404 || res.status === 409) return;
  throw new Error(`POST /conversations/${conversationId}/accept: ${res.status}`);
}
