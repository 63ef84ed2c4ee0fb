import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startNodeService, type ManagedProcess } from '@jobsphere/testing';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

// Two real people in two real browser windows against the real built gateway process.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// Not an import: the gateway depends on this package, so it is started as a built file
// (turbo.json makes this test wait for the gateway's build).
const GATEWAY_MAIN = fileURLToPath(new URL('../../chat-gateway/dist/main.js', import.meta.url));
const OUT = fileURLToPath(new URL('../test-output/', import.meta.url));
const VIEWPORT = { width: 720, height: 540 };

let gateway: ManagedProcess | undefined;
let browser: Browser | undefined;
let baseUrl: string;
const pageErrors: string[] = [];

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
      env: { PATH: process.env.PATH, NODE_ENV: 'development' },
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

async function openWindow(): Promise<Window> {
  const context = await browser!.newContext({
    viewport: VIEWPORT,
    locale: 'en-GB',
    timezoneId: 'UTC',
  });
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

async function signIn(page: Page, userId: string, role: 'candidate' | 'recruiter'): Promise<void> {
  await page.goto(`${baseUrl}/try`);
  await page.screenshot({ path: `${OUT}sign-in-${role}.png` });
  await page.getByLabel('User id', { exact: true }).fill(userId);
  await page.getByLabel('Role', { exact: true }).selectOption(role);
  await page.getByRole('button', { name: 'Start chatting' }).click();
  await page
    .getByRole('status')
    .filter({ hasText: /^Connected$/ })
    .waitFor();
}

/** Types like a person (key events, so `input` fires), then Enter sends. */
async function say(page: Page, text: string): Promise<void> {
  const box = page.getByLabel('Message', { exact: true });
  await box.pressSequentially(text);
  await box.press('Enter');
}

const message = (page: Page, text: string) => page.locator('#messages li', { hasText: text });
const conversation = (page: Page, name: string) =>
  page.locator('#conv-list button', { has: page.locator('.name', { hasText: name }) });

describe('try page: a candidate and a recruiter in two windows', () => {
  let ana: Window;
  let ravi: Window;

  beforeAll(async () => {
    ana = await openWindow();
    ravi = await openWindow();
    await Promise.all([
      signIn(ana.page, 'ana', 'candidate'),
      signIn(ravi.page, 'ravi', 'recruiter'),
    ]);
  });

  it('Ana opens a direct conversation with Ravi and sees him online', async () => {
    const { page } = ana;
    await page.getByLabel('Chat with user id').fill('ravi');
    await page.getByLabel('Chat with user id').press('Enter');
    await page.locator('#thread-title', { hasText: 'ravi' }).waitFor();
    await page.locator('#thread-presence', { hasText: /^online$/ }).waitFor();
    await conversation(page, 'ravi').locator('.dot[data-online="true"]').waitFor();
  });

  it('Ana sends: pending, then sent; Ravi gets it with an unread badge', async () => {
    await say(ana.page, 'Hi Ravi, is the frontend role still open?');
    await message(ana.page, 'frontend role').locator('.meta', { hasText: 'Sent' }).waitFor();

    await conversation(ravi.page, 'ana').locator('.badge', { hasText: '1' }).waitFor();
    expect(await ravi.page.locator('#total-unread').textContent()).toBe('1');
    expect(await ravi.page.locator('#announcer').textContent()).toContain('ana: Hi Ravi');
  });

  it('Ravi opens the conversation (reads it) and Ana sees "Seen"', async () => {
    await conversation(ravi.page, 'ana').click();
    await message(ravi.page, 'Hi Ravi, is the frontend role still open?').waitFor();
    await ravi.page.locator('#total-unread').waitFor({ state: 'hidden' });

    await message(ana.page, 'frontend role').locator('.seen', { hasText: 'Seen' }).waitFor();

    // "Seen" is not only a live event: after a reload it comes back from the conversation list.
    await ana.page.reload();
    await conversation(ana.page, 'ravi').click();
    await message(ana.page, 'frontend role').locator('.seen', { hasText: 'Seen' }).waitFor();
  });

  it('Ravi sees Ana typing, and the indicator clears when her message arrives', async () => {
    const typing = ravi.page.locator('#typing', { hasText: 'ana is typing…' });
    await ana.page.getByLabel('Message', { exact: true }).pressSequentially('I can start in March');
    await typing.waitFor();
    await ana.page.getByLabel('Message', { exact: true }).press('Enter');
    await message(ravi.page, 'I can start in March').waitFor();
    await typing.waitFor({ state: 'hidden' });
    expect(await ravi.page.locator('#typing').textContent()).toBe('');

    await say(ravi.page, 'Great! Shall we talk tomorrow at 10?');
    await message(ana.page, 'Shall we talk tomorrow').waitFor();
    await message(ravi.page, 'Shall we talk tomorrow').locator('.seen').waitFor();
  });

  it('screenshots: both windows side by side', async () => {
    const [left, right] = await Promise.all([
      ana.page.screenshot({ path: `${OUT}candidate.png` }),
      ravi.page.screenshot({ path: `${OUT}recruiter.png` }),
    ]);
    const sheet = await browser!.newPage({
      viewport: { width: VIEWPORT.width * 2 + 48, height: VIEWPORT.height + 64 },
    });
    const figure = (png: Buffer, caption: string) =>
      `<figure><figcaption>${caption}</figcaption><img alt="" src="data:image/png;base64,${png.toString('base64')}"></figure>`;
    await sheet.setContent(
      `<style>body{margin:0;padding:12px 16px;display:flex;gap:16px;background:#3b4250;font:14px system-ui,sans-serif;color:#fff}` +
        `figure{margin:0}figcaption{margin-bottom:6px}img{display:block;border-radius:6px}</style>` +
        figure(left, 'Window 1 – ana (candidate)') +
        figure(right, 'Window 2 – ravi (recruiter)'),
    );
    await sheet.screenshot({ path: `${OUT}try-page.png` });
    await sheet.close();
    expect(readFileSync(`${OUT}try-page.png`).subarray(1, 4).toString()).toBe('PNG');
  });

  it('Ravi loses his connection, sees it, and catches up with `sync` after reconnecting', async () => {
    await ravi.cut();
    await ravi.page
      .getByRole('status')
      .filter({ hasText: /^Reconnecting/ })
      .waitFor();

    // Sent while Ravi is away: no live delivery reaches him.
    await say(ana.page, 'Sent while you were offline (1)');
    await say(ana.page, 'Sent while you were offline (2)');
    await message(ana.page, 'offline (2)').locator('.meta', { hasText: 'Sent' }).waitFor();
    expect(await message(ravi.page, 'offline (1)').count()).toBe(0);

    await ravi.restore();
    await ravi.page
      .getByRole('status')
      .filter({ hasText: /^Connected$/ })
      .waitFor({ timeout: 15_000 });
    await message(ravi.page, 'offline (1)').waitFor();
    await message(ravi.page, 'offline (2)').waitFor();
    // Merged by seq: nothing doubled, order kept.
    const texts = await ravi.page.locator('#messages li .bubble').allTextContents();
    expect(texts).toEqual([
      'Hi Ravi, is the frontend role still open?',
      'I can start in March',
      'Great! Shall we talk tomorrow at 10?',
      'Sent while you were offline (1)',
      'Sent while you were offline (2)',
    ]);
    // He has the conversation open, so the catch-up counts as read.
    await message(ana.page, 'offline (2)').locator('.seen').waitFor();
  });

  it('a message sent without a connection shows "Sending…", then "Sent" once reconnected', async () => {
    await ana.cut();
    await ana.page
      .getByRole('status')
      .filter({ hasText: /^Reconnecting/ })
      .waitFor();
    await say(ana.page, 'Typed in a tunnel');
    await message(ana.page, 'Typed in a tunnel')
      .locator('.meta', { hasText: 'Sending…' })
      .waitFor();

    await ana.restore();
    // Ravi has the conversation open, so it may turn to "Seen" right away.
    await message(ana.page, 'Typed in a tunnel')
      .locator('.meta', { hasText: /Sent|Seen/ })
      .waitFor({ timeout: 15_000 });
    await message(ravi.page, 'Typed in a tunnel').waitFor();
    // Stored once, even if the buffered send and a retry both reached the server.
    expect(await message(ravi.page, 'Typed in a tunnel').count()).toBe(1);
  });

  it('Ravi closes his window and Ana sees him offline with a last-seen time', async () => {
    await ravi.context.close();
    await ana.page
      .locator('#thread-presence', { hasText: /^offline, last seen \d\d:\d\d$/ })
      .waitFor();
    await conversation(ana.page, 'ravi').locator('.dot[data-online="false"]').waitFor();
    await ana.page.screenshot({ path: `${OUT}candidate-peer-offline.png` });
    await ana.context.close();
    expect(pageErrors).toEqual([]);
  });
});
