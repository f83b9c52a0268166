import { guardSuitesAfterHandOver } from '../../test-support/chrome-test-helpers';

// The guard suites again, each on a pool that took over another pool's running Chromium and warm
// pages (QcPool.letGo / adopt, as a handoff's successor with HANDOFF_TAKE_OVER_CHROME does): the
// network guard, the sockets, navigation, and what one job leaves the next, here across the take-over
// (job A before it, job B after).
guardSuitesAfterHandOver('adopt', 'on pages taken over from another pool');
