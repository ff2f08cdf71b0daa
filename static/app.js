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

// Password strength (ASVS V2.1.8). The estimate is a length in "free characters": length is
// what makes a password strong, so no character class earns anything (V2.1.9 forbids
// composition rules). What an attacker tries first earns little: a common password or the
// person's own name or address counts as 2, a repeated or sequential run 1/4 per character
// after its start, a chunk seen earlier 1. The server's rules decide; this only guides.
const MIN_CHARS = 12;
const MAX_CHARS = 128;
// A few hundred guesses every cracker starts with; the server's list holds 30,000.
const COMMON = `password passw0rd letmein welcome qwerty qwertz azerty asdfgh zxcvbn qazwsx
  1qaz2wsx abc123 iloveyou trustno1 dragon monkey shadow master sunshine princess football
  baseball soccer hockey superman batman starwars freedom whatever computer internet secret
  admin administrator login access hello charlie michael jordan jennifer hunter ranger
  mustang tigger summer winter spring autumn cheese cookie pepper ginger maggie buster
  silver orange purple yellow diamond thunder matrix merlin phoenix killer chelsea arsenal
  liverpool london samsung google apple iphone qwerty123 latchkey changeme default guest
  test testing secret123 flower lovely loveme family friend forever blessed jesus angel
  pokemon naruto minecraft`.split(/\s+/).filter(Boolean);
// What people substitute for letters, so "P@ssw0rd" is still "password".
const LEET = { "@": "a", 4: "a", 8: "b", 3: "e", 1: "i", "!": "i", 0: "o", $: "s", 5: "s", 7: "t" };
const plain = (chars) => chars.map((c) => LEET[c] ?? c);
const COMMON_PLAIN = COMMON.map((w) => plain([...w]).join(""));

// Words to avoid for this person: the username and email address typed into the same form,
// or those the page names (data-avoid), and their parts.
const avoided = (input, meter) => {
  const scope = input.form ?? document;
  const typed = [...scope.querySelectorAll("input[autocomplete=username], input[type=email]")].map((i) => i.value);
  const whole = [...typed, ...(meter.dataset.avoid ?? "").split(/\s+/)].map((w) => w.toLowerCase()).filter((w) => w.length >= 3);
  // An address's local part, not its domain: "example" or "com" are not this person's.
  const parts = whole.flatMap((w) => w.split("@")[0].split(/[^\p{L}\p{N}]+/u)).filter((w) => w.length >= 3);
  return [...new Set([...whole, ...parts])];
};

// How the password scores: 0 (refused or nearly so) to 4, with the reason.
const strength = (password, avoid) => {
  const chars = [...password.toLowerCase()];
  if (chars.length === 0) return [0, ""];
  if (chars.length < MIN_CHARS) return [0, `Too short: ${chars.length} of at least ${MIN_CHARS} characters.`];
  if (chars.length > MAX_CHARS) return [0, `Too long: at most ${MAX_CHARS} characters.`];
  const whole = chars.join("");
  if (avoid.includes(whole)) return [0, "That is your username or email address."];
  const simple = plain(chars);
  if (COMMON_PLAIN.includes(simple.join(""))) return [0, "That is one of the most common passwords."];

  // Cross out common words and the person's own, longest first.
  const taken = chars.map(() => false);
  const words = [...avoid.map((w) => [...w]), ...COMMON_PLAIN.map((w) => [...w])].sort((a, b) => b.length - a.length);
  let score = 0;
  let guessable = false;
  for (const word of words) {
    for (let i = 0; i + word.length <= chars.length; i += 1) {
      if (word.every((c, j) => !taken[i + j] && (simple[i + j] === c || chars[i + j] === c))) {
        word.forEach((_, j) => { taken[i + j] = true; });
        score += 2;
        guessable = true;
        i += word.length - 1;
      }
    }
  }
  // Walk what is left: runs of one character or of neighbours ("aaaa", "1234", "zyx") and
  // chunks already seen count for little.
  let prev = null;
  let step = null;
  for (let i = 0; i < chars.length; i += 1) {
    if (taken[i]) {
      prev = null;
      continue;
    }
    let len = 0;
    for (let n = Math.min(chars.length - i, i); n >= 3 && !len; n -= 1) {
      const chunk = chars.slice(i, i + n);
      if (chunk.every((_, j) => !taken[i + j]) && chars.slice(0, i).join("").includes(chunk.join(""))) len = n;
    }
    if (len) {
      score += 1;
      guessable = true;
      i += len - 1;
      prev = null;
      continue;
    }
    const c = chars[i].codePointAt(0);
    const diff = prev === null ? null : c - prev;
    if (diff !== null && (diff === 0 || Math.abs(diff) === 1) && (diff === 0 || diff === step)) {
      score += 0.25;
      guessable = true;
    } else {
      score += 1;
    }
    step = diff;
    prev = c;
  }
  if (score < 12) {
    return [1, guessable
      ? "Weak: mostly a common word, your name, or a repeated or sequential run. Add a few unrelated words."
      : "Weak: long enough to be accepted, easy to crack. Add a few unrelated words."];
  }
  if (score < 16) return [2, "Fair: another word or two makes it much stronger."];
  if (score < 20) return [3, "Good."];
  return [4, "Strong."];
};

document.querySelectorAll("input[autocomplete=new-password]").forEach((input) => {
  const described = (input.getAttribute("aria-describedby") ?? "").split(/\s+/).map((id) => document.getElementById(id));
  const meter = described.find((el) => el instanceof HTMLMeterElement);
  const hint = described.find((el) => el?.classList.contains("strength-hint"));
  if (!meter || !hint) return;
  meter.hidden = false;
  const update = () => {
    const [level, why] = strength(input.value, avoided(input, meter));
    meter.value = level;
    hint.textContent = why;
  };
  input.addEventListener("input", update);
  if (input.value) update();
});

// Security keys (ASVS V2.3.2). A form with data-webauthn="create" (adding a key) or "get"
// (signing in) carries the server's options in data-options; the key's answer goes back in the
// form's hidden field as the JSON the browser makes of it. Without this script the page says
// a key needs JavaScript, and the button stays hidden. The button is not a submit button, so
// the form is sent only with an answer in it.
document.querySelectorAll("form[data-webauthn]").forEach((form) => {
  const status = form.querySelector(".webauthn-status");
  const answer = form.querySelector("input[name=credential], input[name=security_key]");
  const button = form.querySelector("button");
  const usable = window.PublicKeyCredential?.parseCreationOptionsFromJSON
    && PublicKeyCredential.parseRequestOptionsFromJSON;
  if (!usable) {
    status.textContent = "This browser cannot use security keys. Use another way below, or another browser.";
    return;
  }
  status.textContent = "";
  button.hidden = false;
  const ask = async () => {
    const options = JSON.parse(form.dataset.options);
    if (form.dataset.webauthn === "create") {
      return navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options) });
    }
    return navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options) });
  };
  button.addEventListener("click", async () => {
    button.disabled = true;
    status.textContent = "Touch your security key now.";
    try {
      const credential = await ask();
      answer.value = JSON.stringify(credential.toJSON());
      status.textContent = "Checking…";
      form.submit();
    } catch (e) {
      // NotAllowedError: cancelled, timed out, or a key this account does not know.
      status.textContent = e.name === "InvalidStateError"
        ? "This key is already registered."
        : "The security key did not answer. Press the button to try again.";
      button.disabled = false;
    }
  });
});
