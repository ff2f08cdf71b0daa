-- A CLI sign-in's browser step belongs to the browser that opened /oauth/authorize: that
-- browser holds a random secret in a cookie, and the request keeps its SHA-256. The consent
-- page and its answer are for that browser only; any other gets 404. Requests from before this
-- migration (at most 5 minutes old) have none, and no browser can answer them.
ALTER TABLE oauth_requests ADD COLUMN browser_hash BLOB;
