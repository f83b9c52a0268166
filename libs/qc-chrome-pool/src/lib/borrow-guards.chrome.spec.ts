import { TAKE_OVER_ENV } from '../../test-support/chrome-test-helpers';

// The guard suites again, each on a pool that borrowed another pool's running Chromium and then
// took its pipe (QcPool.lend / borrow / takePipes, as a handoff's successor with
// HANDOFF_BORROW_CHROME does): its own pages, opened through the lender's relay, and a connection
// whose browser-wide auto-attach does not hold new pages (cdp-relay.ts). The network guard, the
// sockets, navigation (popups included), and what one job leaves the next, here across the move
// (job A in the lender, job B in the borrower). Each file's tests are registered inside this one's describe.
process.env[TAKE_OVER_ENV] = 'borrow';

describe('on pages of a pool that borrowed another pool\'s Chromium', () => {
  afterAll(() => {
    delete process.env[TAKE_OVER_ENV];
  });
  require('./network-guard.chrome.spec');
  require('./network-guard-sockets.chrome.spec');
  require('./navigation.chrome.spec');
  require('./isolation.chrome.spec');
});
