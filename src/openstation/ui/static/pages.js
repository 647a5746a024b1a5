// Behaviour the pages share, bound with addEventListener: no page carries an inline event
// handler, and the Content-Security-Policy allows no inline script without its nonce.
document.addEventListener("submit", (event) => {
  const message = event.target.dataset ? event.target.dataset.confirm : undefined;
  if (message && !window.confirm(message)) event.preventDefault();
});
document.addEventListener("dblclick", (event) => {
  const row = event.target.closest ? event.target.closest("[data-href]") : null;
  if (row) window.location.href = row.dataset.href;
});
