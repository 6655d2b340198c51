//! The web console in a real browser: headless Chromium driven over
//! WebDriver through the pages a tenant and a platform admin use, against
//! the real server and database. Each test saves screenshots of the pages
//! it passes through under `target/console-screenshots/`.

mod browser;
mod webdriver;

mod admin;
mod assets;
mod roles;
mod tenant_journey;
