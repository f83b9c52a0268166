import { guardSuitesAfterHandOver } from '../../test-support/chrome-test-helpers';

// The guard suites again, each on a pool that borrowed another pool's running Chromium and then
// took its pipe (QcPool.lend / borrow / takePipes, as a handoff's successor with
// HANDOFF_BORROW_CHROME does): its own pages, opened through the lender's relay, and a connection
// whose browser-wide auto-attach does not hold new pages (cdp-relay.ts). Popups included; what one
// job leaves the next across the move (job A in the lender, job B in the borrower).
guardSuitesAfterHandOver('borrow', 'on pages of a pool that borrowed another pool\'s Chromium');
