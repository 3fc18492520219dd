// Vite's client types (import.meta.glob, asset imports) for the web page's TypeScript.
/// <reference types="vite/client" />
