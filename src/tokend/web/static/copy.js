// The Copy button of a new secret (a token's, a webhook's): the one thing on tokend's
// pages that needs JavaScript. Without it the button stays hidden and the secret can be
// selected by hand.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("button[data-copy]")) {
    const source = document.getElementById(button.dataset.copy);
    const status = document.querySelector("[data-copy-status]");
    if (!source || !navigator.clipboard) continue;
    button.hidden = false;
    button.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(source.textContent.trim());
        button.classList.add("copied");
        if (status) status.textContent = "Copied to the clipboard.";
      } catch {
        if (status) status.textContent = "Could not copy: select the secret and copy it by hand.";
      }
      setTimeout(() => button.classList.remove("copied"), 3000);
    });
  }
});
