/** The monitor's stylesheet (served as /assets/monitor.css). */
export const MONITOR_CSS = `
:root { --fg:#1d232b; --muted:#6b7480; --line:#d9dee4; --bg:#f7f8fa; --accent:#2f5fd0; font-family: system-ui, sans-serif; }
body { margin:0; color:var(--fg); background:var(--bg); }
header { display:flex; gap:1rem; align-items:center; padding:.5rem 1rem; background:#fff; border-bottom:1px solid var(--line); flex-wrap:wrap; }
header nav a { margin-right:.8rem; text-decoration:none; color:var(--fg); }
header nav a.active { font-weight:600; color:var(--accent); }
.app { color:var(--muted); } .live { color:var(--muted); font-size:.85rem; } .search input { width:18rem; }
main { padding:1rem 1.5rem; } h1 { font-size:1.4rem; margin:.2rem 0 1rem; } h2 { font-size:1.05rem; margin-top:1.6rem; }
a { color:var(--accent); } .muted { color:var(--muted); } .mono, pre { font-family: ui-monospace, monospace; font-size:.85rem; }
table.grid { border-collapse:collapse; background:#fff; min-width:40rem; }
table.grid th, table.grid td { border:1px solid var(--line); padding:.3rem .55rem; text-align:left; font-size:.88rem; }
td.num { text-align:right; }
.status { display:inline-block; padding:.05rem .45rem; border-radius:.7rem; font-size:.78rem; background:#e6e9ee; }
.st-success { background:#cdeccf; fill:#4caf50; } .st-failed { background:#f7c9c9; fill:#e05555; }
.st-running { background:#cfe0fb; fill:#4a7fe0; } .st-pending { background:#f6e7b9; fill:#d9a520; }
.st-retry { background:#f3d6f0; fill:#b554a8; } .st-registered, .st-rerouted { background:#e6e9ee; fill:#9aa3ad; }
.st-concurrency_controlled, .st-concurrency_controlled_final { background:#e1dcf5; fill:#7e6bc4; }
.st-paused, .st-resumed, .st-kill { background:#fde2c8; fill:#e58a3a; }
.cards { display:flex; gap:.8rem; flex-wrap:wrap; } .card { background:#fff; border:1px solid var(--line); border-radius:.4rem; padding:.6rem .9rem; }
.card .n { font-size:1.4rem; font-weight:600; margin-right:.3rem; } .card a { text-decoration:none; color:inherit; }
.bars { display:flex; align-items:flex-end; gap:3px; height:120px; background:#fff; border:1px solid var(--line); padding:.4rem; }
.bar { flex:1; display:flex; flex-direction:column-reverse; height:100%; } .bar .seg { display:block; width:100%; }
.bar .seg.st-success { background:#4caf50; } .bar .seg.st-failed { background:#e05555; } .bar .seg.st-running { background:#4a7fe0; }
.bar .seg.st-pending { background:#d9a520; } .bar .seg.st-registered { background:#9aa3ad; } .bar .seg.st-retry { background:#b554a8; }
.filters { display:flex; gap:.8rem; flex-wrap:wrap; align-items:flex-end; margin-bottom:1rem; }
.filters label { display:flex; flex-direction:column; font-size:.8rem; color:var(--muted); }
dl.summary { display:grid; grid-template-columns:8rem auto; gap:.25rem .8rem; } dl.summary dt { color:var(--muted); }
ol.timeline { list-style:none; padding-left:0; border-left:3px solid var(--line); }
ol.timeline li { margin:.3rem 0 .3rem -.2rem; padding-left:.8rem; display:flex; gap:.8rem; font-size:.88rem; white-space:nowrap; }
.offset { width:6rem; color:var(--muted); font-family:ui-monospace, monospace; }
pre.value { background:#fff; border:1px solid var(--line); padding:.6rem; overflow:auto; max-height:24rem; white-space:pre-wrap; }
pre.error { border-color:#e05555; }
ul.conditions { margin:0; padding-left:1rem; } ul.conditions .kind { font-size:.75rem; color:var(--muted); text-transform:uppercase; }
pre.payload { margin:0; max-height:8rem; }
ul.tree, ul.tree ul { list-style:none; padding-left:1.2rem; border-left:1px dashed var(--line); }
form.action { display:inline-block; margin:.3rem .5rem .3rem 0; }
form.action button { background:var(--accent); color:#fff; border:0; padding:.35rem .8rem; border-radius:.3rem; cursor:pointer; }
.badge.ro { background:#fde2c8; padding:.1rem .5rem; border-radius:.3rem; font-size:.8rem; }
.notice { background:#fff; border-left:4px solid var(--accent); padding:.6rem 1rem; }
.notice.error { border-color:#e05555; }
.timeline-svg { background:#fff; border:1px solid var(--line); } .lane-label { font-size:11px; font-family:ui-monospace, monospace; }
.lane-line { stroke:var(--line); } .link { stroke:#555; stroke-width:1; stroke-dasharray:3 2; }
`
