// Solves the ALTCHA proof-of-work for forms marked data-captcha: finds the number whose
// SHA-256 with the salt is the challenge, then fills the hidden "captcha" field.
const form = document.querySelector("form[data-captcha]");
if (form) {
  const field = form.querySelector("input[name=captcha]");
  const button = form.querySelector("button[type=submit]");
  const status = form.querySelector(".captcha-status");
  const hex = (buf) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, "0")).join("");
  button.disabled = true;
  status.textContent = "Checking that you are not a robot…";
  (async () => {
    const c = await (await fetch("/api/v1/captcha")).json();
    const encoder = new TextEncoder();
    for (let n = 0; n <= c.maxnumber; n += 1) {
      if (hex(await crypto.subtle.digest("SHA-256", encoder.encode(c.salt + n))) === c.challenge) {
        const solution = { algorithm: c.algorithm, challenge: c.challenge, number: n, salt: c.salt, signature: c.signature };
        field.value = btoa(JSON.stringify(solution));
        button.disabled = false;
        status.textContent = "Verified: you can send the form.";
        return;
      }
    }
    status.textContent = "The check failed. Reload the page to try again.";
  })().catch(() => { status.textContent = "The check failed. Reload the page to try again."; });
}
