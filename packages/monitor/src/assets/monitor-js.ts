/**
 * The monitor's own browser script (served as /assets/monitor.js; no inline script anywhere, so
 * the Content-Security-Policy can allow the monitor's own files only):
 * - asks before any action form is sent (`data-confirm`);
 * - listens to /events (server-sent final statuses) and refreshes what shows those invocations:
 *   the invocation page, and rows of the list (through htmx, selecting the fresh part).
 */
export const MONITOR_JS = `(() => {
  document.addEventListener('submit', (e) => {
    const f = e.target
    if (f instanceof HTMLFormElement && f.dataset.confirm && !window.confirm(f.dataset.confirm)) e.preventDefault()
  }, true)
  let finals = 0
  const refresh = (selector) => {
    if (window.htmx) window.htmx.ajax('GET', location.pathname + location.search, { target: selector, select: selector, swap: 'outerHTML' })
  }
  const events = new EventSource('/events')
  events.addEventListener('final', (ev) => {
    const ids = JSON.parse(ev.data)
    finals += ids.length
    const counter = document.getElementById('live-count')
    if (counter) counter.textContent = String(finals)
    document.body.dataset.finals = String(finals)
    const page = document.getElementById('invocation')
    if (page && ids.includes(page.dataset.invocation)) refresh('#invocation')
    else if (document.getElementById('invocations') && ids.some((id) => document.querySelector('tr[data-invocation="' + CSS.escape(id) + '"]'))) refresh('#invocations')
  })
})()
`
