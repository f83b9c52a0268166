import { TAKE_OVER_ENV } from '../../test-support/chrome-test-helpers';

// The guard suites again, each on a pool that took over another pool's running Chromium and warm
// pages (QcPool.letGo / adopt, as a handoff's successor with HANDOFF_TAKE_OVER_CHROME does): the
// network guard, the sockets, navigation, and what one job leaves the next, here across the take-over
// (job A before it, job B after). Each file's tests are registered inside this one's describe.
process.env[TAKE_OVER_ENV] = 'adopt';

describe('on pages taken over from another pool', () => {
  afterAll(() => {
    delete process.env[TAKE_OVER_ENV];
  });
  require('./network-guard.chrome.spec');
  require('./network-guard-sockets.chrome.spec');
  require('./navigation.chrome.spec');
  require('./isolation.chrome.spec');
});
