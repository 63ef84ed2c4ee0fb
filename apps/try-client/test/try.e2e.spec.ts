import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { createChatClient, type ChatClient } from '@jobsphere/chat-client';
import { signTestServiceToken, startNodeService, type ManagedProcess } from '@jobsphere/testing';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

// Real people in real browser windows against the real built gateway process (development
// mode: the in-memory store), plus one Node device on the same client SDK for bulk traffic.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// Not an import: the gateway depends on this package, so it is started as a built file
// (turbo.json makes this test wait for the gateway's build).
const GATEWAY_MAIN = fileURLToPath(new URL('../../chat-gateway/dist/main.js', import.meta.url));
const OUT = fileURLToPath(new URL('../test-output/', import.meta.url));
const README = fileURLToPath(new URL('../../../README.md', import.meta.url));
const DESKTOP = { width: 900, height: 600 };
const PHONE = { width: 390, height: 844 };
const SERVICE_SECRET = 'try-page-service-secret-0123456789abcdefgh';

let gateway: ManagedProcess | undefined;
let browser: Browser | undefined;
let baseUrl: string;
const pageErrors: string[] = [];
const nodeClients: ChatClient[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM}. This test drives a real browser and is never skipped: ` +
        'install it with `apt-get install -y --no-install-recommends chromium` (CI does), ' +
        'or point CHROMIUM_PATH at a Chromium binary.',
    );
  }
  if (!existsSync(GATEWAY_MAIN)) {
    throw new Error(`${GATEWAY_MAIN} is missing: run \`pnpm turbo run build\` first.`);
  }
  mkdirSync(OUT, { recursive: true });
  // Both settle before anything is thrown, so afterAll can always close what did start.
  const started = await Promise.allSettled([
    startNodeService({
      script: GATEWAY_MAIN,
      // The long conversation below is sent faster than a person types.
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'development',
        RATE_LIMIT_SEND_PER_10S: '1000',
        // The platform's side of the templates case (a conversation's values).
        SERVICE_TOKEN_SECRET: SERVICE_SECRET,
      },
    }).then((service) => {
      gateway = service.process;
      baseUrl = service.url;
    }),
    chromium
      .launch({
        executablePath: CHROMIUM,
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--no-first-run',
          '--disable-quic',
        ],
      })
      .then((b) => (browser = b)),
  ]);
  for (const result of started) if (result.status === 'rejected') throw result.reason;
});

afterAll(async () => {
  for (const c of nodeClients) await c.close();
  await browser?.close();
  await gateway?.dispose();
});

interface Window {
  context: BrowserContext;
  page: Page;
  /** Cuts this window's websocket and refuses new ones, as a network outage would. */
  cut(): Promise<void>;
  restore(): Promise<void>;
}

async function openWindow(viewport = DESKTOP): Promise<Window> {
  const context = await browser!.newContext({ viewport, locale: 'en-GB', timezoneId: 'UTC' });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  page.on('pageerror', (error) => pageErrors.push(error.message));
  return {
    context,
    page,
    // Offline emulation closes open websockets and fails new ones with a network error.
    cut: () => context.setOffline(true),
    restore: () => context.setOffline(false),
  };
}

const connected = (page: Page) =>
  page
    .getByRole('status')
    .filter({ hasText: /^Connected$/ })
    .waitFor({ timeout: 15_000 });

async function signIn(page: Page, userId: string, role: 'candidate' | 'recruiter'): Promise<void> {
  await page.goto(`${baseUrl}/try`);
  await page.getByLabel('User id', { exact: true }).fill(userId);
  await page.getByLabel('Role', { exact: true }).selectOption(role);
  await page.getByRole('button', { name: 'Start chatting' }).click();
  await connected(page);
}

/** Types like a person (key events, so `input` fires), then Enter sends. */
async function say(page: Page, text: string): Promise<void> {
  const box = page.getByLabel('Message', { exact: true });
  await box.pressSequentially(text);
  await box.press('Enter');
}

async function openWith(page: Page, userId: string, job?: string): Promise<void> {
  await page.locator('summary', { hasText: 'New conversation' }).click();
  await page.getByLabel('Chat with user id').fill(userId);
  if (job) await page.getByLabel('About the job').selectOption({ label: job });
  await page.getByRole('button', { name: 'Open', exact: true }).click();
}

const message = (page: Page, text: string) => page.locator('#messages li.msg', { hasText: text });
const conversation = (page: Page, name: string) =>
  page.locator('#conv-list button', { has: page.locator('.name', { hasText: name }) });

/** What a person sees of the message pane: is it scrolled to the end, is the composer visible. */
async function layout(page: Page) {
  return page.evaluate(() => {
    const list = document.getElementById('messages')!;
    const composer = document.getElementById('composer-input')!.getBoundingClientRect();
    const items = list.querySelectorAll('li.msg');
    const last = items[items.length - 1]?.getBoundingClientRect();
    const pane = list.getBoundingClientRect();
    return {
      scrolls: list.scrollHeight > list.clientHeight,
      atEnd: list.scrollHeight - list.scrollTop - list.clientHeight < 2,
      newestVisible: last !== undefined && last.bottom <= pane.bottom + 1 && last.top >= pane.top,
      composerVisible: composer.top >= 0 && composer.bottom <= window.innerHeight,
      pageScrolls: document.documentElement.scrollHeight > window.innerHeight,
      overflowsSideways: document.documentElement.scrollWidth > window.innerWidth,
      messages: items.length,
    };
  });
}

/** What a recruiter writes while arranging interviews: the long conversation's lines. */
const LINES = [
  'Thanks for applying to the Senior Frontend Engineer role.',
  'The first round is a 30 minute call with me.',
  'Then a technical interview with two engineers from the web team.',
  'It covers TypeScript, accessibility and a small pairing exercise.',
  'The last round is with Mia, the hiring manager.',
  'Do mornings or afternoons work better for you?',
  'We can do it on video or at the Northwind office.',
  'The salary band for this role is in the job description.',
];

/** A Node device on the same SDK, for traffic no one should have to type. */
async function nodeDevice(userId: string, role: 'candidate' | 'recruiter'): Promise<ChatClient> {
  const response = await fetch(`${baseUrl}/dev/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userId, role }),
  });
  const { token } = (await response.json()) as { token: string };
  const client = createChatClient({ url: baseUrl, userId, token });
  nodeClients.push(client);
  await client.connect({ failFast: true });
  await client.loadConversations();
  return client;
}

/**
 * The walkthrough in README.md ("Start here"), as written: its numbered steps, and every UI
 * label it quotes, which the steps below must each have used or seen.
 */
function readmeWalkthrough(): { steps: string[]; labels: Set<string> } {
  const text = readFileSync(README, 'utf8');
  const start = text.indexOf('Then open **http://localhost:4000/try**');
  const end = text.indexOf('\n\n', text.indexOf('\n4. ', start));
  if (start < 0 || end < 0) throw new Error('the README walkthrough was not found');
  const section = text.slice(start, end);
  const steps = section.split(/\n(?=\d\. )/).slice(1);
  return { steps, labels: new Set([...section.matchAll(/"([^"]+)"/g)].map((m) => m[1]!)) };
}

describe('try page: a candidate and a recruiter in two windows', () => {
  let ana: Window;
  let ravi: Window;
  const walkthrough = readmeWalkthrough();
  /** Labels of the README walkthrough the steps used or saw. */
  const checked = new Set<string>();
  const label = (text: string) => {
    checked.add(text);
    return text;
  };

  beforeAll(async () => {
    ana = await openWindow();
    ravi = await openWindow();
    // Step 1: the quick picks, each window its own identity.
    for (const [window, pick] of [
      [ana, 'Ana, candidate'],
      [ravi, 'Ravi, recruiter'],
    ] as const) {
      await window.page.goto(`${baseUrl}/try`);
      await window.page.getByRole('button', { name: label(pick) }).click();
    }
    await Promise.all([connected(ana.page), connected(ravi.page)]);
  });

  it('README step 2: Ana opens a conversation with Ravi about a job; his name, role and the job show, and "offline"', async () => {
    expect(walkthrough.steps).toHaveLength(4);
    const { page } = ana;
    await page.locator('summary', { hasText: label('New conversation') }).click();
    await page.getByLabel('Chat with user id').fill('ravi');
    await page
      .getByLabel(label('About the job'))
      .selectOption({ label: 'Senior Frontend Engineer at Northwind' });
    await page.getByRole('button', { name: label('Open'), exact: true }).click();
    await page.locator('#thread-title', { hasText: 'Ravi Mehta' }).waitFor();
    expect(await page.locator('#thread-sub').textContent()).toBe(
      'Recruiter · Talent partner, Northwind · About Senior Frontend Engineer at Northwind',
    );
    // They never talked: until Ravi answers, neither sees the other online.
    await page
      .locator('#thread-presence', { hasText: new RegExp(`^${label('offline')}$`) })
      .waitFor();
    const entry = conversation(page, 'Ravi Mehta');
    expect(await entry.locator('.context').textContent()).toBe(
      'Recruiter · Senior Frontend Engineer at Northwind',
    );
  });

  it('README step 3: a message request: "Sent", never "Seen"; under Ravi\'s "Requests", no badge, both offline', async () => {
    await say(ana.page, 'Hi Ravi, is the frontend role still open?');
    const first = message(ana.page, 'frontend role');
    await first.locator('.meta', { hasText: label('Sent') }).waitFor();

    const requests = ravi.page.locator('#requests');
    await requests.getByRole('heading', { name: label('Requests') }).waitFor();
    const request = requests.locator('#request-list button.conv', { hasText: 'Ana Souza' });
    await request.waitFor();
    expect(await conversation(ravi.page, 'Ana Souza').count()).toBe(0);
    expect(await request.locator('.badge').count()).toBe(0);
    expect(await ravi.page.locator('#total-unread').isHidden()).toBe(true);
    expect(await ravi.page.locator('#announcer').textContent()).toContain('Ana Souza: Hi Ravi');

    // Ravi opens the request and reads it: his read position reaches the server, Ana is told
    // nothing. Her own next send is the marker: its ack leaves the server after anything the
    // server sent her before it.
    const readAcked = new Promise<void>((resolve) => {
      ravi.page.on('websocket', (ws) =>
        ws.on('framereceived', ({ payload }) => {
          if (String(payload).includes('"lastReadSeq":1')) resolve();
        }),
      );
    });
    await ravi.page.reload();
    await connected(ravi.page);
    await ravi.page.locator('#request-list button.conv', { hasText: 'Ana Souza' }).click();
    await message(ravi.page, 'frontend role').waitFor();
    await ravi.page.locator('#thread-presence', { hasText: /^offline$/ }).waitFor();
    await readAcked;
    await say(ana.page, 'I can share my portfolio');
    const marker = message(ana.page, 'portfolio');
    await marker.locator('.meta', { hasText: 'Sent' }).waitFor();
    expect(await ana.page.locator('#messages .seen').count()).toBe(0);
    expect(await ana.page.locator('#thread-presence').textContent()).toBe('offline');
  });

  it('README step 4: Ravi accepts: the conversation moves to his list, both online, what he read "Seen"', async () => {
    const requests = ravi.page.locator('#request-list');
    await requests.getByRole('button', { name: `${label('Accept')} Ana Souza` }).click();
    // The answer goes to the server first: the request leaves the list when it is accepted.
    await ravi.page.locator('#requests').waitFor({ state: 'hidden' });
    expect(
      await requests.getByRole('button', { name: `${label('Decline')} Ana Souza` }).count(),
    ).toBe(0);
    expect(await ravi.page.locator('#announcer').textContent()).toBe('Accepted.');
    await conversation(ana.page, 'Ravi Mehta').locator('.dot[data-online="true"]').waitFor();
    await ana.page.locator('#thread-presence', { hasText: /^online$/ }).waitFor();
    await ravi.page.locator('#thread-presence', { hasText: /^online$/ }).waitFor();

    const entry = conversation(ravi.page, 'Ana Souza');
    expect(await entry.locator('.context').textContent()).toBe(
      'Candidate · Senior Frontend Engineer at Northwind',
    );
    // He has it open, so it is read: Ana's messages turn "Seen".
    await message(ana.page, 'portfolio')
      .locator('.seen', { hasText: label('Seen') })
      .waitFor();
    await ravi.page.locator('#total-unread').waitFor({ state: 'hidden' });
  });

  it('a new message while Ravi looks elsewhere: the unread badge', async () => {
    await ravi.page.locator('#thread-title').waitFor();
    await ravi.page.evaluate(() => {
      Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
      document.dispatchEvent(new Event('visibilitychange'));
    });
    await say(ana.page, 'Looking forward to hearing from you');
    const entry = conversation(ravi.page, 'Ana Souza');
    await entry.locator('.badge', { hasText: '1' }).waitFor();
    expect(await ravi.page.locator('#total-unread').textContent()).toBe('1');
    // His device has it, unread: Ana sees "Delivered", not "Seen".
    await message(ana.page, 'Looking forward to hearing from you')
      .locator('.delivered', { hasText: 'Delivered' })
      .waitFor();
    await ravi.page.evaluate(() => {
      Object.defineProperty(document, 'visibilityState', { value: 'visible', configurable: true });
      document.dispatchEvent(new Event('visibilitychange'));
    });
    await ravi.page.locator('#total-unread').waitFor({ state: 'hidden' });
  });

  it('every label the README walkthrough quotes was used or seen above', () => {
    expect([...walkthrough.labels].filter((l) => !checked.has(l))).toEqual([]);
  });

  it('own and other bubbles are told apart at a glance (side and colour)', async () => {
    await conversation(ravi.page, 'Ana Souza').click();
    await say(ravi.page, 'Yes it is! Do you have a moment to talk?');
    await message(ana.page, 'a moment to talk').waitFor();
    // Found and measured in one turn of the page's event loop: the pane re-renders its list on
    // every change (a read receipt arriving), so an element found earlier may be detached by now.
    const look = (text: string) =>
      ana.page.evaluate((wanted) => {
        const li = [...document.querySelectorAll('#messages li.msg')].find((item) =>
          item.textContent?.includes(wanted),
        )!;
        const bubble = li.querySelector('.bubble')!;
        const list = li.parentElement!.getBoundingClientRect();
        const box = bubble.getBoundingClientRect();
        return {
          side: box.left - list.left < list.right - box.right ? 'left' : 'right',
          background: getComputedStyle(bubble).backgroundColor,
        };
      }, text);
    const mine = await look('frontend role');
    const theirs = await look('a moment to talk');
    expect([mine.side, theirs.side]).toEqual(['right', 'left']);
    expect(mine.background).not.toBe(theirs.background);
  });

  it('Ravi has the conversation open (read), so Ana sees "Seen" — also after a reload', async () => {
    await ravi.page.locator('#total-unread').waitFor({ state: 'hidden' });
    // "Seen" is said under Ana's newest message.
    const newest = () => message(ana.page, 'Looking forward to hearing from you');
    await newest().locator('.seen', { hasText: 'Seen' }).waitFor();
    await ana.page.reload();
    await connected(ana.page);
    await conversation(ana.page, 'Ravi Mehta').click();
    await newest().locator('.seen', { hasText: 'Seen' }).waitFor();
  });

  it('Ravi turns read receipts off: neither sees the other\'s "Seen"; on again, it comes back', async () => {
    const ravisNewest = () => message(ravi.page, 'a moment to talk');
    const anasNewest = () => message(ana.page, 'Looking forward to hearing from you');
    await ravisNewest().locator('.seen', { hasText: 'Seen' }).waitFor();
    const toggle = ravi.page.getByLabel('Read receipts');
    await toggle.uncheck();
    // Ravi sees nobody's receipts now; Ana's window, reloaded, shows none of his.
    await ravisNewest().locator('.sent', { hasText: 'Sent' }).waitFor();
    await ana.page.reload();
    await connected(ana.page);
    await conversation(ana.page, 'Ravi Mehta').click();
    await anasNewest().locator('.sent', { hasText: 'Sent' }).waitFor();
    expect(await ana.page.locator('#messages .seen, #messages .delivered').count()).toBe(0);
    // Kept across a reload of his own window too.
    await ravi.page.reload();
    await connected(ravi.page);
    await conversation(ravi.page, 'Ana Souza').click();
    await ravi.page.getByLabel('Read receipts').and(ravi.page.locator(':not(:checked)')).waitFor();
    await ravisNewest().locator('.sent', { hasText: 'Sent' }).waitFor();
    // On again: both see "Seen" as it is.
    await ravi.page.getByLabel('Read receipts').check();
    await ravisNewest().locator('.seen', { hasText: 'Seen' }).waitFor();
    await ana.page.reload();
    await connected(ana.page);
    await conversation(ana.page, 'Ravi Mehta').click();
    await anasNewest().locator('.seen', { hasText: 'Seen' }).waitFor();
  });

  it('Ravi sees Ana typing, and the indicator clears when her message arrives', async () => {
    const typing = ravi.page.locator('#typing', { hasText: 'Ana Souza is typing…' });
    await ana.page.getByLabel('Message', { exact: true }).pressSequentially('I can start in March');
    await typing.waitFor();
    await ana.page.getByLabel('Message', { exact: true }).press('Enter');
    await message(ravi.page, 'I can start in March').waitFor();
    await typing.waitFor({ state: 'hidden' });
    expect(await ravi.page.locator('#typing').textContent()).toBe('');
  });

  it('Ana edits one message and deletes another: Ravi sees "edited" and a tombstone, live', async () => {
    await say(ana.page, 'I can do Monday');
    await say(ana.page, 'Oops, wrong window');
    await message(ravi.page, 'wrong window').waitFor();
    const monday = message(ana.page, 'I can do Monday');
    await monday.getByRole('button', { name: 'Edit message' }).click();
    const box = ana.page.getByLabel('Message', { exact: true });
    expect(await box.inputValue()).toBe('I can do Monday');
    await box.fill('I can do Tuesday');
    await box.press('Enter');
    await message(ravi.page, 'I can do Tuesday').locator('.meta', { hasText: 'edited' }).waitFor();
    expect(await message(ravi.page, 'I can do Monday').count()).toBe(0);

    await message(ana.page, 'wrong window').getByRole('button', { name: 'Delete message' }).click();
    for (const page of [ravi.page, ana.page])
      await page
        .locator('#messages .bubble.deleted', { hasText: 'This message was deleted' })
        .waitFor();
    expect(await message(ravi.page, 'wrong window').count()).toBe(0);
    // The list says what the newest message became, not an empty "You:".
    await conversation(ana.page, 'Ravi Mehta')
      .locator('.preview', { hasText: /^You: Message deleted$/ })
      .waitFor();
  });

  it('Ravi replies to Ana\u2019s message and both react: the quote and the counts show live on both sides', async () => {
    await message(ravi.page, 'I can do Tuesday')
      .getByRole('button', { name: 'Reply to message' })
      .click();
    await ravi.page.locator('#replying', { hasText: 'I can do Tuesday' }).waitFor();
    await say(ravi.page, 'Tuesday 10:00 then');
    const reply = (page: Page) => message(page, 'Tuesday 10:00 then');
    for (const page of [ana.page, ravi.page])
      await reply(page).locator('blockquote.quote', { hasText: 'I can do Tuesday' }).waitFor();
    expect(await ravi.page.locator('#replying').isHidden()).toBe(true);
    // Direct conversations have no mention picker.
    expect(await ana.page.locator('#mention-picker').isHidden()).toBe(true);

    await reply(ana.page).getByRole('button', { name: 'React with thumbs up' }).click();
    const chip = (page: Page) => reply(page).locator('.reactions .chip');
    await chip(ana.page).filter({ hasText: '👍 1' }).waitFor();
    expect(await chip(ana.page).getAttribute('aria-pressed')).toBe('true');
    await chip(ravi.page).filter({ hasText: '👍 1' }).waitFor();
    expect(await chip(ravi.page).getAttribute('aria-pressed')).toBe('false');
    // Ravi adds his: two, his own pressed; Ana takes hers back: one, hers no longer pressed.
    await chip(ravi.page).click();
    await chip(ana.page).filter({ hasText: '👍 2' }).waitFor();
    await chip(ana.page).click();
    await chip(ravi.page).filter({ hasText: '👍 1' }).waitFor();
    expect(await chip(ravi.page).getAttribute('aria-pressed')).toBe('true');
    await chip(ana.page).filter({ hasText: '👍 1' }).waitFor();
    expect(await chip(ana.page).getAttribute('aria-pressed')).toBe('false');
  });

  it('screenshots: both windows side by side', async () => {
    const [left, right] = await Promise.all([
      ana.page.screenshot({ path: `${OUT}candidate.png` }),
      ravi.page.screenshot({ path: `${OUT}recruiter.png` }),
    ]);
    const sheet = await browser!.newPage({
      viewport: { width: DESKTOP.width * 2 + 48, height: DESKTOP.height + 64 },
    });
    const figure = (png: Buffer, caption: string) =>
      `<figure><figcaption>${caption}</figcaption><img alt="" src="data:image/png;base64,${png.toString('base64')}"></figure>`;
    await sheet.setContent(
      `<style>body{margin:0;padding:12px 16px;display:flex;gap:16px;background:#3b4250;font:14px system-ui,sans-serif;color:#fff}` +
        `figure{margin:0}figcaption{margin-bottom:6px}img{display:block;border-radius:6px}</style>` +
        figure(left, 'Window 1 – Ana Souza (candidate)') +
        figure(right, 'Window 2 – Ravi Mehta (recruiter)'),
    );
    await sheet.screenshot({ path: `${OUT}try-page.png` });
    await sheet.close();
    expect(readFileSync(`${OUT}try-page.png`).subarray(1, 4).toString()).toBe('PNG');
  });

  it('a long conversation scrolls inside its pane, opens on the newest message, and the composer stays in view', async () => {
    // Ravi's phone (the same SDK in Node) sends 70 messages; Ana's window follows along.
    const phone = await nodeDevice('ravi', 'recruiter');
    const id = phone.conversations()[0]!.id;
    for (let i = 1; i <= 70; i++) phone.send(id, `${LINES[i % LINES.length]} (${i}/70)`);
    await message(ana.page, '(70/70)').waitFor({ timeout: 20_000 });
    let seen = await layout(ana.page);
    expect(seen).toMatchObject({
      scrolls: true,
      atEnd: true,
      newestVisible: true,
      composerVisible: true,
      pageScrolls: false,
    });
    expect(seen.messages).toBeGreaterThanOrEqual(73);

    // Opening it afresh (a reload) lands on the newest message too.
    await ana.page.reload();
    await connected(ana.page);
    await conversation(ana.page, 'Ravi Mehta').click();
    await message(ana.page, '(70/70)').waitFor();
    seen = await layout(ana.page);
    expect(seen).toMatchObject({ atEnd: true, newestVisible: true, composerVisible: true });
    await ana.page.screenshot({ path: `${OUT}long-conversation.png` });

    // Scrolled up to read, a new message does not yank the view: a "New messages" button shows.
    await ana.page.locator('#messages').evaluate((list) => (list.scrollTop = 0));
    phone.send(id, 'One more thing: bring your portfolio');
    await message(ana.page, 'bring your portfolio').waitFor();
    await ana.page.getByRole('button', { name: 'New messages ↓' }).click();
    await ana.page.waitForFunction(() => {
      const list = document.getElementById('messages')!;
      return list.scrollHeight - list.scrollTop - list.clientHeight < 2;
    });
    await phone.close();
  });

  it('on a 390 px phone: the list, then the conversation full width, nothing overflows sideways', async () => {
    const phone = await openWindow(PHONE);
    await signIn(phone.page, 'ravi', 'recruiter');
    expect((await layout(phone.page)).overflowsSideways).toBe(false);
    await phone.page.screenshot({ path: `${OUT}phone-list.png` });
    await conversation(phone.page, 'Ana Souza').click();
    await message(phone.page, 'bring your portfolio').waitFor();
    await say(phone.page, 'Sent from my phone: see you Tuesday at 10:00 at the Northwind office.');
    await message(phone.page, 'see you Tuesday')
      .locator('.meta', { hasText: /Sent|Seen/ })
      .waitFor();
    const seen = await layout(phone.page);
    expect(seen).toMatchObject({
      scrolls: true,
      atEnd: true,
      newestVisible: true,
      composerVisible: true,
      pageScrolls: false,
      overflowsSideways: false,
    });
    await phone.page.screenshot({ path: `${OUT}phone-thread.png` });
    await phone.page.getByRole('button', { name: 'Back to conversations' }).click();
    await conversation(phone.page, 'Ana Souza').waitFor();
    await phone.context.close();
  });

  it('Ravi loses his connection, sees it, and catches up with `sync` after reconnecting', async () => {
    await ravi.cut();
    await ravi.page
      .getByRole('status')
      .filter({ hasText: /^Reconnecting/ })
      .waitFor();
    const before = await ravi.page.locator('#messages li.msg .bubble').allTextContents();

    // Sent while Ravi is away: no live delivery reaches him.
    await say(ana.page, 'Sent while you were offline (1)');
    await say(ana.page, 'Sent while you were offline (2)');
    await message(ana.page, 'offline (2)').locator('.meta', { hasText: 'Sent' }).waitFor();
    expect(await message(ravi.page, 'offline (1)').count()).toBe(0);

    await ravi.restore();
    await connected(ravi.page);
    await message(ravi.page, 'offline (2)').waitFor();
    // Nothing doubled, order kept.
    expect(await ravi.page.locator('#messages li.msg .bubble').allTextContents()).toEqual([
      ...before,
      'Sent while you were offline (1)',
      'Sent while you were offline (2)',
    ]);
    // He has the conversation open, so the catch-up counts as read.
    await message(ana.page, 'offline (2)').locator('.seen').waitFor();
  });

  it('a message written without a connection waits for it, then goes out once', async () => {
    await ana.cut();
    await ana.page
      .getByRole('status')
      .filter({ hasText: /^Reconnecting/ })
      .waitFor();
    await say(ana.page, 'Typed in a tunnel');
    await message(ana.page, 'Typed in a tunnel')
      .locator('.meta', { hasText: 'Waiting for the connection…' })
      .waitFor();

    await ana.restore();
    await message(ana.page, 'Typed in a tunnel')
      .locator('.meta', { hasText: /Sent|Seen/ })
      .waitFor({ timeout: 15_000 });
    await message(ravi.page, 'Typed in a tunnel').waitFor();
    expect(await message(ravi.page, 'Typed in a tunnel').count()).toBe(1);
  });

  it('the dev server restarts (its memory is gone): a clear notice, not a stale list', async () => {
    await gateway!.stop();
    await ana.page
      .getByRole('status')
      .filter({ hasText: /^Reconnecting/ })
      .waitFor();
    await say(ana.page, 'Are you still there?');
    await message(ana.page, 'Are you still there?')
      .locator('.meta', { hasText: 'Waiting for the connection…' })
      .waitFor();
    await gateway!.start();
    const notice = ana.page.getByRole('alert').filter({ hasText: 'no longer has' });
    await notice.waitFor({ timeout: 20_000 });
    expect(await notice.locator('#notice-text').textContent()).toBe(
      'The chat server no longer has one of your conversations. The development server keeps ' +
        'everything in memory, so restarting it clears all conversations and messages. One ' +
        'message you wrote there could not be sent. Start a new conversation to carry on.',
    );
    await connected(ana.page);
    expect(await ana.page.locator('#conv-list li').count()).toBe(0);
    expect(await ana.page.locator('#thread-title').textContent()).toBe('No conversation open');
    await ana.page.screenshot({ path: `${OUT}dev-restart.png` });
  });

  it('Ravi closes his window and Ana sees him offline with a last-seen time', async () => {
    await openWith(ana.page, 'ravi');
    // The restarted server forgot they talked: a request again, which Ravi accepts.
    await ravi.page.getByRole('button', { name: 'Accept Ana Souza' }).click();
    await ana.page.locator('#thread-presence', { hasText: /^online$/ }).waitFor();
    await ravi.context.close();
    await ana.page
      .locator('#thread-presence', { hasText: /^offline, last seen \d\d:\d\d$/ })
      .waitFor();
    await conversation(ana.page, 'Ravi Mehta').locator('.dot[data-online="false"]').waitFor();
    await ana.context.close();
    expect(pageErrors).toEqual([]);
  });
});

/** Reads until it gives `want` (a marker in the page, not a fixed wait), else fails with the diff. */
async function until<T>(read: () => Promise<T>, want: T, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = await read();
    if (isDeepStrictEqual(got, want) || Date.now() > deadline) {
      expect(got).toEqual(want);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Sends from a Node device and resolves once the server stored the message. */
function sendStored(client: ChatClient, conversationId: string, body: string): Promise<void> {
  return new Promise((resolve) => {
    const entry = client.send(conversationId, body);
    const off = client.on('sent', ({ entry: sent }) => {
      if (sent.clientMessageId !== entry.clientMessageId) return;
      off();
      resolve();
    });
  });
}

describe('try page: search, and organising conversations on two devices', () => {
  /** Leo on a desktop window and on a phone: the same person, two devices. */
  let desk: Window;
  let phone: Window;
  const INTERVIEW = 'The interview is at the Northwind office on Friday at ten';
  const MARKUP = '<img src=x onerror="document.title=1"> <b>offer</b> letter';

  beforeAll(async () => {
    const [mia, ravi, leo] = await Promise.all([
      nodeDevice('mia', 'recruiter'),
      nodeDevice('ravi', 'recruiter'),
      nodeDevice('leo', 'candidate'),
    ]);
    const withMia = (await mia.openDirect({ userId: 'leo' })).id;
    await sendStored(mia, withMia, INTERVIEW);
    await sendStored(mia, withMia, 'Bring your portfolio to the interview');
    const withRavi = (await ravi.openDirect({ userId: 'leo' })).id;
    await sendStored(ravi, withRavi, MARKUP);
    await sendStored(ravi, withRavi, 'Thanks for applying to the Data Analyst role');
    await leo.loadRequests();
    await leo.accept(withMia);
    await leo.accept(withRavi);
    desk = await openWindow();
    phone = await openWindow(PHONE);
    await signIn(desk.page, 'leo', 'candidate');
    await signIn(phone.page, 'leo', 'candidate');
  });

  afterAll(async () => {
    await desk?.context.close();
    await phone?.context.close();
  });

  it('search finds a message sent earlier, newest first, its words highlighted, a body with markup shown as text', async () => {
    const page = desk.page;
    await page.getByLabel('Search messages').fill('interview');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    const hits = page.locator('#search-list li');
    await until(() => hits.count(), 2);
    // Newest first: the portfolio line came after the address.
    expect(await hits.nth(0).locator('.hit-body').textContent()).toBe(
      'Bring your portfolio to the interview',
    );
    expect(await hits.nth(1).locator('.hit-body').textContent()).toBe(INTERVIEW);
    expect(await hits.nth(1).locator('mark').allTextContents()).toEqual(['interview']);
    expect(await hits.nth(1).locator('.name').textContent()).toBe('Mia Chen');
    expect(await page.locator('#search-more').isHidden()).toBe(true);

    // Two words: both marked, in the one message holding both.
    await page.getByLabel('Search messages').fill('NORTHWIND friday');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await until(() => hits.first().locator('mark').allTextContents(), ['Northwind', 'Friday']);
    expect(await hits.count()).toBe(1);

    // A body is text, never markup: the hit shows the characters, only the word is marked.
    await page.getByLabel('Search messages').fill('offer');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await until(() => hits.first().locator('.hit-body').textContent(), MARKUP);
    expect(await hits.first().locator('mark').allTextContents()).toEqual(['offer']);
    expect(await page.locator('#search-list img, #search-list b').count()).toBe(0);
    await page.getByLabel('Search messages').fill('NORTHWIND friday');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await until(() => hits.first().locator('.name').textContent(), 'Mia Chen');

    // Opening a hit opens its conversation.
    await hits.first().locator('button').click();
    await page.locator('#thread-title', { hasText: 'Mia Chen' }).waitFor();
  });

  it('a refused search (regular-expression characters) shows the page\u2019s error text, and nothing else changes', async () => {
    const page = desk.page;
    await page.getByLabel('Search messages').fill('inter.*');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.locator('#search-error', { hasText: /^This can't be sent: / }).waitFor();
    // The last results stay as they were.
    expect(await page.locator('#search-list li').count()).toBe(1);
    await page.getByRole('button', { name: 'Close search' }).click();
    expect(await page.locator('#search-results').isHidden()).toBe(true);
  });

  it('"More results" appears with a cursor and adds the older hits', async () => {
    const page = desk.page;
    // Leo's own messages: enough for more than one page of 20.
    await conversation(page, 'Ravi Mehta').click();
    for (let i = 1; i <= 22; i++) await say(page, `salary question ${i}`);
    await message(page, 'salary question 22').waitFor();
    // Stored, all of them: nothing left pending.
    await page.waitForFunction(() => !document.querySelector('#messages li.pending'));
    await page.getByLabel('Search messages').fill('salary');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    const hits = page.locator('#search-list li');
    await until(() => hits.count(), 20);
    expect(await hits.first().locator('.hit-body').textContent()).toBe('salary question 22');
    await page.getByRole('button', { name: 'More results' }).click();
    await until(() => hits.count(), 22);
    expect(await hits.last().locator('.hit-body').textContent()).toBe('salary question 1');
    expect(await page.locator('#search-more').isHidden()).toBe(true);
    await page.getByRole('button', { name: 'Close search' }).click();
  });

  it('pin, mute and archive on one device show on the other, live (pinned first, archived out)', async () => {
    const page = desk.page;
    const other = phone.page;
    const names = (p: Page) => p.locator('#conv-list .conv .name').allTextContents();
    // Ravi's conversation was the last active: first on both.
    await until(() => names(other), ['Ravi Mehta', 'Mia Chen']);

    await conversation(page, 'Mia Chen').click();
    await page
      .getByRole('group', { name: 'Organise' })
      .getByRole('button', { name: 'Pin' })
      .click();
    await until(() => names(other), ['Mia Chen📌', 'Ravi Mehta']);

    await page
      .getByRole('group', { name: 'Organise' })
      .getByRole('button', { name: 'Mute' })
      .click();
    await other.locator('#conv-list [aria-label^="Mia Chen, pinned, muted"]').waitFor();
    expect(await names(other)).toEqual(['Mia Chen📌🔕', 'Ravi Mehta']);

    await conversation(page, 'Ravi Mehta').click();
    await page
      .getByRole('group', { name: 'Organise' })
      .getByRole('button', { name: 'Archive' })
      .click();
    await until(() => names(other), ['Mia Chen📌🔕']);
    await until(() => names(page), ['Mia Chen📌🔕']);

    // Archived is a click away, and comes back.
    await other.getByLabel('Show archived').check();
    await until(() => names(other), ['Mia Chen📌🔕', 'Ravi Mehta🗄']);
    await page
      .getByRole('group', { name: 'Organise' })
      .getByRole('button', { name: 'Unarchive' })
      .click();
    await until(() => names(other), ['Mia Chen📌🔕', 'Ravi Mehta']);

    // The phone still fits 390 px with the search box and the controls.
    const fit = await other.evaluate(() => ({
      sideways: document.documentElement.scrollWidth > window.innerWidth,
    }));
    expect(fit.sideways).toBe(false);
    await conversation(other, 'Mia Chen').click();
    await other
      .getByRole('group', { name: 'Organise' })
      .getByRole('button', { name: 'Unpin' })
      .waitFor();
    expect(await layout(other)).toMatchObject({ overflowsSideways: false, composerVisible: true });
    await other.screenshot({ path: `${OUT}organise-phone.png` });
  });

  it('mark unread on one device: the other shows it marked unread', async () => {
    const page = desk.page;
    await phone.page.getByRole('button', { name: 'Back to conversations' }).click();
    await conversation(page, 'Mia Chen').click();
    await page
      .getByRole('group', { name: 'Organise' })
      .getByRole('button', { name: 'Mark unread' })
      .click();
    // The phone, back on its list, follows; the desk shows it too (it went back to the list).
    await phone.page
      .locator('#conv-list [aria-label^="Mia Chen"][aria-label$="marked unread"]')
      .waitFor();
    await page
      .locator('#conv-list [aria-label^="Mia Chen"][aria-label$="marked unread"]')
      .waitFor();
    expect(pageErrors).toEqual([]);
  });
});

describe('try page: templates and scheduled sends of a recruiter', () => {
  /** Rex recruits, Tia applies; the platform opened their conversation and set its values. */
  let rex: Window;
  let tia: Window;
  let conversationId: string;
  const HOSTILE = '<img src=x onerror="document.title=1"> {{job.title}}';

  async function platform(method: string, path: string, body: unknown): Promise<unknown> {
    const token = await signTestServiceToken({
      secret: SERVICE_SECRET,
      scopes: ['conversations:write', 'templates:write'],
    });
    const response = await fetch(`${baseUrl}/service/v1${path}`, {
      method,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status}`);
    return response.json();
  }

  const preview = (page: Page) => page.locator('#template-preview').textContent();
  const pick = (page: Page, name: string) =>
    page.getByLabel('Template', { exact: true }).selectOption({ label: name });

  beforeAll(async () => {
    const opened = (await platform('POST', '/conversations', {
      idempotencyKey: 'try-templates',
      kind: 'direct',
      memberIds: ['rex', 'tia'],
    })) as { conversation: { id: string } };
    conversationId = opened.conversation.id;
    await platform('PUT', `/conversations/${conversationId}/template-variables`, {
      variables: { 'candidate.firstName': 'Tia', 'job.title': 'Welder' },
    });
    rex = await openWindow();
    tia = await openWindow();
    await signIn(rex.page, 'rex', 'recruiter');
    await signIn(tia.page, 'tia', 'candidate');
    await conversation(rex.page, 'tia').click();
    await conversation(tia.page, 'rex').click();
  });

  afterAll(async () => {
    await rex?.context.close();
    await tia?.context.close();
  });

  it('Rex saves a template, picks it, sees it filled for Tia, and sends it; Tia gets it live', async () => {
    const page = rex.page;
    await page
      .getByLabel('Message', { exact: true })
      .fill('Hello {{candidate.firstName}}, is the {{job.title}} role still of interest?');
    await page.getByLabel('Template name').fill('Invite');
    await page.getByRole('button', { name: 'Save text as template' }).click();
    await until(
      () => page.locator('#template-pick option').allTextContents(),
      ['Choose a template…', 'Invite'],
    );
    await page.getByLabel('Message', { exact: true }).fill('');
    await pick(page, 'Invite');
    const filled = 'Hello Tia, is the Welder role still of interest?';
    await until(() => preview(page), filled);
    await page.getByRole('button', { name: 'Use template' }).click();
    await message(page, filled).waitFor();
    await message(tia.page, filled).waitFor();
    expect(await message(tia.page, filled).count()).toBe(1);
  });

  it('a value with markup and template syntax is shown as text, never run or expanded', async () => {
    await platform('PUT', `/conversations/${conversationId}/template-variables`, {
      variables: { 'candidate.firstName': HOSTILE, 'job.title': 'Welder' },
    });
    const page = rex.page;
    await pick(page, 'Invite');
    const filled = `Hello ${HOSTILE}, is the Welder role still of interest?`;
    await until(() => preview(page), filled);
    await page.getByRole('button', { name: 'Use template' }).click();
    await message(tia.page, 'is the Welder role still').nth(1).waitFor();
    const bodies = await tia.page.locator('#messages li.msg .bubble').allTextContents();
    expect(bodies.some((b) => b.includes(filled))).toBe(true);
    expect(await tia.page.locator('#messages img').count()).toBe(0);
    expect(await tia.page.title()).not.toBe('1');
  });

  it('a template needing a value the platform did not set says which, and sends nothing', async () => {
    const page = rex.page;
    await page.getByLabel('Message', { exact: true }).fill('Regards, {{recruiter.firstName}}');
    await page.getByLabel('Template name').fill('Sign-off');
    await page.getByRole('button', { name: 'Save text as template' }).click();
    await page
      .locator('#template-pick option', { hasText: 'Sign-off' })
      .waitFor({ state: 'attached' });
    await page.getByLabel('Message', { exact: true }).fill('');
    await pick(page, 'Sign-off');
    const refusal =
      "This can't be sent: the conversation has no value for {{recruiter.firstName}}.";
    await until(() => preview(page), refusal);
    await page.getByRole('button', { name: 'Use template' }).click();
    await until(() => page.locator('#announcer').textContent(), refusal);
    // Nothing went: the marker is the one message Rex sends next, right after the two templates.
    await say(page, 'marker after the refusal');
    await message(tia.page, 'marker after the refusal').waitFor();
    expect(await tia.page.locator('#messages li.msg').count()).toBe(3);
  });

  it('a template scheduled for later is listed under "Scheduled", filled, and can be cancelled there', async () => {
    const page = rex.page;
    await pick(page, 'Invite');
    await page.getByLabel('When').selectOption({ label: 'In 1 hour' });
    await page.getByRole('button', { name: 'Use template' }).click();
    await page.getByRole('button', { name: 'Scheduled' }).click();
    const item = page.locator('#scheduled-list li');
    await until(() => item.count(), 1);
    expect(await item.locator('.body').textContent()).toBe(
      `Hello ${HOSTILE}, is the Welder role still of interest?`,
    );
    expect(await item.locator('.when').textContent()).toContain('waiting');
    await item.getByRole('button', { name: /^Cancel the send at / }).click();
    await until(
      () =>
        item
          .locator('.when')
          .textContent()
          .then((t) => t?.endsWith('cancelled')),
      true,
    );
    expect(await item.getByRole('button').count()).toBe(0);
    await page.getByLabel('When').selectOption({ label: 'Now' });
  });

  it('a candidate has no template picker, and an empty list of scheduled sends', async () => {
    const page = tia.page;
    expect(await page.locator('#templates').isHidden()).toBe(true);
    await page.getByRole('button', { name: 'Scheduled' }).click();
    await page.locator('#scheduled-none').waitFor();
    expect(await page.locator('#scheduled-list li').count()).toBe(0);
    expect(pageErrors).toEqual([]);
  });
});
