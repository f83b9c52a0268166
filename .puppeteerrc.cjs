/**
 * Puppeteer never downloads a browser for this project: the QC pool drives the
 * system Chromium (CHROME_PATH, else /usr/bin/chromium), which tools/scripts/setup.sh
 * installs with apt where it is missing.
 */
module.exports = { skipDownload: true };
