// confirm.js - the page's confirmation (the #confirm dialog): a question, Cancel and a named
// action; resolves true when the action was chosen (Escape or Cancel: false).

export function confirmAction(text, okLabel) {
  return new Promise((resolve) => {
    const dlg = document.getElementById('confirm');
    document.getElementById('confirm-text').textContent = text;
    document.getElementById('confirm-ok').textContent = okLabel;
    dlg.onclose = () => resolve(dlg.returnValue === 'ok');
    dlg.returnValue = '';
    dlg.showModal();
  });
}
