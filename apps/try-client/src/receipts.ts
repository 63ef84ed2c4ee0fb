import type { ChatClient, ChatError } from '@jobsphere/chat-client';

/**
 * The "Read receipts" switch in the top bar: off, nobody sees when this person received or read
 * their messages, and this person sees nobody's ("Delivered" and "Seen" disappear both ways).
 * Follows the setting when it changes on another device.
 */
export function setupReceipts(client: ChatClient, onError: (error: ChatError) => void): void {
  const toggle = document.getElementById('receipts-toggle') as HTMLInputElement;
  toggle.checked = client.receipts;
  client.on('settings', ({ receipts }) => {
    toggle.checked = receipts;
  });
  toggle.addEventListener('change', () => {
    const wanted = toggle.checked;
    toggle.disabled = true;
    client
      .setReceipts(wanted)
      .catch((error: ChatError) => {
        toggle.checked = client.receipts;
        onError(error);
      })
      .finally(() => {
        toggle.disabled = false;
      });
  });
  client.loadSettings().catch(onError);
}

/** What the sender sees under their newest message: "Seen", "Delivered" or "Sent". */
export function receiptLabel(peerReadSeq: number, peerDeliveredSeq: number, seq: number) {
  if (peerReadSeq >= seq) return { cls: 'seen', text: ' · Seen' };
  if (peerDeliveredSeq >= seq) return { cls: 'delivered', text: ' · Delivered' };
  return { cls: 'sent', text: ' · Sent' };
}
