// gpcm web UI: starts the NHS.UK frontend components and keeps live regions
// up to date from the server's event stream. No inline script is needed
// (the Content-Security-Policy forbids it).
import { initAll } from './nhsuk/nhsuk-frontend.min.js'

document.body.classList.add('js-enabled')
if ('noModule' in HTMLScriptElement.prototype) {
  document.body.classList.add('nhsuk-frontend-supported')
}
initAll()

// Live updates must not disturb the person using the page: the regions
// marked data-live are swapped in place without aria-live of their own (a
// screen reader would re-read the whole table), keyboard focus and ticked
// boxes stay where they were, and one polite status message
// (#live-status, role=status) says what changed.

// focusKey describes the focused element inside region so that its twin
// can be found in the fresh copy: its id, else its row (data-id) and its
// position among the row's focusable elements.
function focusKey (region) {
  const el = document.activeElement
  if (!el || el === document.body || !region.contains(el)) return null
  if (el.id) return { id: el.id }
  const row = el.closest('[data-id]')
  const scope = row || region
  const all = Array.from(scope.querySelectorAll('a, button, input, select, textarea, [tabindex]'))
  return { row: row ? row.dataset.id : null, index: all.indexOf(el) }
}

function refocus (region, key) {
  if (!key) return
  let el = null
  if (key.id) {
    el = document.getElementById(key.id)
  } else {
    const scope = key.row === null ? region : region.querySelector(`[data-id="${CSS.escape(key.row)}"]`)
    if (scope) el = scope.querySelectorAll('a, button, input, select, textarea, [tabindex]')[key.index]
  }
  if (el && region.contains(el)) el.focus({ preventScroll: true })
}

// checkedBoxes lists the ticked boxes of region by name and value.
function checkedBoxes (region) {
  return new Set(Array.from(region.querySelectorAll('input[type=checkbox]:checked'), (c) => c.name + '\n' + c.value))
}

function rowIDs (root) {
  return new Set(Array.from(root.querySelectorAll('[data-id]'), (r) => r.dataset.id))
}

function announce (text) {
  const status = document.getElementById('live-status')
  if (!status) return
  status.textContent = ''
  // A new text node after a pause, so the same words are read again.
  setTimeout(() => { status.textContent = text }, 100)
}

// markScrollable makes every table container that scrolls sideways (a
// wide table on a phone) reachable and named for keyboard and screen
// reader users: tabindex 0 and a region labelled by its table.
function markScrollable () {
  for (const c of document.querySelectorAll('.nhsuk-table-container')) {
    const scrolls = c.scrollWidth > c.clientWidth + 1
    if (scrolls && !c.hasAttribute('tabindex')) {
      const label = c.querySelector('table[aria-labelledby]')
      c.tabIndex = 0
      c.setAttribute('role', 'region')
      c.dataset.scrollRegion = 'true'
      if (label) c.setAttribute('aria-labelledby', label.getAttribute('aria-labelledby'))
      else c.setAttribute('aria-label', 'Table, scrolls sideways')
    } else if (!scrolls && c.dataset.scrollRegion) {
      for (const a of ['tabindex', 'role', 'aria-labelledby', 'aria-label', 'data-scroll-region']) c.removeAttribute(a)
    }
  }
}
markScrollable()
window.addEventListener('resize', () => markScrollable())

// refreshLive fetches the current page again and swaps in every element
// marked data-live (matched by id), so new rows appear without a reload.
async function refreshLive () {
  const res = await fetch(window.location.href, { credentials: 'same-origin', cache: 'no-store' })
  if (!res.ok || res.redirected) return
  const doc = new DOMParser().parseFromString(await res.text(), 'text/html')
  let changed = false
  let added = 0
  for (const el of document.querySelectorAll('[data-live][id]')) {
    const fresh = doc.getElementById(el.id)
    if (!fresh || fresh.innerHTML === el.innerHTML) continue
    const key = focusKey(el)
    const ticked = checkedBoxes(el)
    const before = rowIDs(el)
    el.replaceChildren(...fresh.childNodes)
    for (const c of el.querySelectorAll('input[type=checkbox]')) {
      if (ticked.has(c.name + '\n' + c.value)) c.checked = true
    }
    for (const id of rowIDs(el)) if (!before.has(id)) added++
    refocus(el, key)
    changed = true
  }
  if (changed) markScrollable()
  const n = Number(document.body.dataset.liveRefreshes || '0') + 1
  document.body.dataset.liveRefreshes = String(n)
  if (changed) {
    const what = document.title.split(' – ')[0]
    announce(added === 0 ? `${what} updated` : `${what} updated: ${added} new ${added === 1 ? 'item' : 'items'}`)
  }
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
