/** The admin page's entry: Bun bundles this (and styles.css) into the binary. */
import { render } from "preact";
import { App } from "./app.tsx";

render(<App />, document.getElementById("app")!);
