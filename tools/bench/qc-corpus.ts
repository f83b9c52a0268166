// Deterministic corpus of ~20 lesson-like pages for the QC benchmarks: text, tables,
// images as data: URIs (SVG), a little script. Same seed -> same pages, every run.

const SUBJECTS = ['Fractions', 'Photosynthesis', 'The Water Cycle', 'Plate Tectonics', 'Simple Machines',
  'Ancient Rome', 'Cell Division', 'Magnetism', 'Poetry Forms', 'Climate Zones', 'Probability',
  'The Solar System', 'Food Chains', 'Electric Circuits', 'Map Reading', 'Chemical Reactions',
  'Geometry: Angles', 'Sound Waves', 'Volcanoes', 'Budgeting Basics'];
const WORDS = ('learn observe measure compare energy pattern model evidence system cycle force ' +
  'balance structure change predict explain record result question method example ratio area').split(' ');

/** Small deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function svgDataUri(rand: () => number, label: string): string {
  const shapes = Array.from({ length: 6 }, () => {
    const [x, y, r] = [rand() * 300, rand() * 150, 10 + rand() * 30];
    return `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="${r.toFixed(1)}" fill="hsl(${Math.floor(rand() * 360)},60%,60%)"/>`;
  }).join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="320" height="160">${shapes}<text x="10" y="150">${label}</text></svg>`;
  return `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`;
}

function paragraph(rand: () => number, words: number): string {
  return Array.from({ length: words }, () => WORDS[Math.floor(rand() * WORDS.length)]).join(' ');
}

/** Page `index` of the corpus (0-based). */
export function lessonPage(index: number): string {
  const rand = rng(1000 + index);
  const title = SUBJECTS[index % SUBJECTS.length];
  const sections = Array.from({ length: 4 }, (_, s) => `<section><h2>Part ${s + 1}</h2>
    <p>${paragraph(rand, 80)}.</p><p>${paragraph(rand, 60)}.</p>
    <figure><img src="${svgDataUri(rand, `${title} ${s + 1}`)}" alt="${title} diagram ${s + 1}"><figcaption>Figure ${s + 1}</figcaption></figure>
  </section>`).join('\n');
  const rows = Array.from({ length: 6 }, (_, r) =>
    `<tr>${Array.from({ length: 5 }, (_, c) => `<td>${r === 0 ? `Col ${c + 1}` : (rand() * 100).toFixed(1)}</td>`).join('')}</tr>`).join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<style>body{font-family:sans-serif;max-width:900px;margin:auto;line-height:1.5}table{border-collapse:collapse}td{border:1px solid #999;padding:4px}</style>
</head><body><h1>${title}</h1>${sections}
<table id="data">${rows}</table>
<ol id="quiz"></ol>
<script>
  const answers = ${JSON.stringify(Array.from({ length: 5 }, () => Math.floor(rand() * 4)))};
  const quiz = document.getElementById('quiz');
  answers.forEach((a, i) => { const li = document.createElement('li'); li.textContent = 'Question ' + (i + 1) + ': choose option ' + 'ABCD'[a]; quiz.appendChild(li); });
  const sum = Array.from(document.querySelectorAll('#data td')).reduce((s, td) => s + (parseFloat(td.textContent) || 0), 0);
  document.body.dataset.total = sum.toFixed(1);
  ${index % 5 === 4 ? "console.error('quiz: answer key missing for question 3');" : ''}
</script></body></html>`;
}

/** The whole corpus. */
export function lessonCorpus(size = 20): string[] {
  return Array.from({ length: size }, (_, i) => lessonPage(i));
}
