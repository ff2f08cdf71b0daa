// Small enhancements; every page works without them.
document.querySelectorAll("[data-copy]").forEach((button) => {
  button.addEventListener("click", async () => {
    const text = document.getElementById(button.dataset.copy).innerText;
    try {
      await navigator.clipboard.writeText(text);
      button.textContent = "Copied";
    } catch {
      button.textContent = "Select and copy the codes above";
    }
  });
});

// "Show password" (ASVS V2.1.12): browsers other than Edge offer no way to check what was
// typed. The button exists only when this script runs, so pages without it are unchanged.
document.querySelectorAll("input[type=password]").forEach((input) => {
  const wrap = document.createElement("span");
  wrap.className = "reveal";
  input.before(wrap);
  wrap.append(input);
  const button = document.createElement("button");
  button.type = "button";
  button.className = "reveal-toggle";
  if (input.id) button.setAttribute("aria-controls", input.id);
  const show = (shown) => {
    input.type = shown ? "text" : "password";
    button.textContent = shown ? "Hide" : "Show";
    button.setAttribute("aria-label", shown ? "Hide password" : "Show password");
    button.setAttribute("aria-pressed", String(shown));
  };
  show(false);
  button.addEventListener("click", () => show(input.type === "password"));
  // Masked again before sending, so the browser does not keep it in a text field's history.
  input.form?.addEventListener("submit", () => show(false));
  wrap.append(button);
});
