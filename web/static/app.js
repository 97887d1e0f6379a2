// gpcm web UI: starts the NHS.UK frontend components and keeps live regions
// up to date from the server's event stream. No inline script is needed
// (the Content-Security-Policy forbids it).
import { initAll } from './nhsuk/nhsuk-frontend.min.js'

document.body.classList.add('js-enabled')
if ('noModule' in HTMLScriptElement.prototype) {
  document.body.classList.add('nhsuk-frontend-supported')
}
initAll()

// refreshLive fetches the current page again and swaps in every element
// marked data-live (matched by id), so new rows appear without a reload.
async function refreshLive () {
  const res = await fetch(window.location.href, { credentials: 'same-origin', cache: 'no-store' })
  if (!res.ok || res.redirected) return
  const doc = new DOMParser().parseFromString(await res.text(), 'text/html')
  for (const el of document.querySelectorAll('[data-live][id]')) {
    const fresh = doc.getElementById(el.id)
    if (fresh) el.replaceChildren(...fresh.childNodes)
  }
  const n = Number(document.body.dataset.liveRefreshes || '0') + 1
  document.body.dataset.liveRefreshes = String(n)
}

const events = document.body.dataset.events
if (events && 'EventSource' in window) {
  const source = new EventSource(events)
  let pending = null
  const schedule = () => {
    if (pending) return
    pending = setTimeout(() => { pending = null; refreshLive().catch(() => {}) }, 200)
  }
  for (const name of ['document', 'transmission', 'alert', 'mesh']) {
    source.addEventListener(name, schedule)
  }
  source.addEventListener('open', () => { document.body.dataset.liveConnected = 'true' })
}
