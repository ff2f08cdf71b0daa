// The real ALTCHA library (npm altcha-lib) as an outside party for the Rust tests:
//   node altcha.mjs solve '<challenge JSON>'      prints the base64 payload it solves to
//   node altcha.mjs verify '<payload>' '<hmacKey>' prints true or false
import { solveChallenge, verifySolution } from "altcha-lib";

const [mode, arg, key] = process.argv.slice(2);
if (mode === "solve") {
  const c = JSON.parse(arg);
  const { promise } = solveChallenge(c.challenge, c.salt, c.algorithm, c.maxnumber);
  const solution = await promise;
  if (!solution) {
    console.error("no solution");
    process.exit(1);
  }
  const payload = { algorithm: c.algorithm, challenge: c.challenge, number: solution.number, salt: c.salt, signature: c.signature };
  console.log(Buffer.from(JSON.stringify(payload)).toString("base64"));
} else if (mode === "verify") {
  console.log(String(await verifySolution(arg, key)));
} else {
  console.error("usage: altcha.mjs solve JSON | verify PAYLOAD KEY");
  process.exit(2);
}
