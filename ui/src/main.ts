// Entry point: pick the host (Tauri shell or mock) and mount the shell page.
import { mount } from "svelte";
import "./app.css";
import App from "./App.svelte";
import { detectHost } from "./lib/host";

const target = document.getElementById("app");
if (!target) throw new Error('index.html must contain <div id="app">');

void detectHost().then((host) => mount(App, { target, props: { host } }));
