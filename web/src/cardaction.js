// cardaction.js - a domain card's action, this host's (dashboard.js) or a peer's (hosts.js):
// the card's last error cleared, the action awaited, its error shown in the card; a lost
// session (401) reported to authLost.

export async function cardAction(card, what, fn, authLost) {
  card.error.textContent = '';
  try {
    await fn();
  } catch (e) {
    if (e.status === 401) authLost();
    card.error.textContent = `${what}: ${e.message}`;
  }
}
