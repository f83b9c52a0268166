// Lesson pages shared by the Chrome specs and tools/bench/qc-annotate-fixture.ts.

/** A 1x1 GIF as a data: URI (data: images are allowed; they load without a request). */
export const GIF = 'data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///ywAAAAAAQABAAACAUwAOw==';

/** A lesson with one defect of every kind the report knows. */
export const DEFECTS = `<!doctype html><html><head><title>Fractions</title>
<style>body{font-family:sans-serif;margin:24px} img{display:inline-block;vertical-align:middle}</style></head><body>
<h1>Fractions</h1>
<p>A pie cut into four equal slices shows quarters: <img src="missing.png" alt="a pie chart" width="120" height="80"></p>
<p>Unlabelled diagram: <img src="${GIF}" width="60" height="40" style="background:#9cf"></p>
<table id="wide-table" style="width:1600px;border:1px solid #999"><tr><td>1/4 + 1/4 = 1/2 (this table is too wide)</td></tr></table>
<script>console.error('lesson script failed');</script>
<script>throw new Error('quiz init failed');</script>
</body></html>`;

/** A lesson with nothing to report. */
export const CLEAN = `<!doctype html><html><head><title>Photosynthesis</title></head><body>
<h1>Photosynthesis</h1><p>Plants turn light into sugar.</p>
<img src="${GIF}" alt="a leaf"><img src="${GIF}" alt="">
<table style="width:600px"><tr><th>Input</th><th>Output</th></tr><tr><td>CO2</td><td>O2</td></tr></table>
<script>document.querySelector('p').dataset.ready = String(1 + 1); console.log('fine');</script>
</body></html>`;
