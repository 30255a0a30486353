// Pulls every page of a 366-day x 100-partner report and prints rows, pages and time.
const url = `${process.env.BASE}/api/v1/reports/kpis?from=2025-01-01&to=2026-01-02&group_by=day,partner&api_key=${process.env.BI_KEY}`;
for (const round of [1, 2]) {
  const started = performance.now();
  let next = url;
  let rows = 0;
  let pages = 0;
  while (next) {
    const response = await fetch(next);
    if (!response.ok) throw new Error(`${response.status} ${await response.text()}`);
    const page = await response.json();
    rows += page.data.length;
    pages += 1;
    next = page.next;
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(`round ${round}: ${rows} rows in ${pages} pages, ${seconds.toFixed(2)} s`);
}
