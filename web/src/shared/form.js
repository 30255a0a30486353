// A form that posts its fields as JSON and says what went wrong next to it, in the
// API's words; used by the setup and insights views.
import { useState } from "preact/hooks";
import { html } from "./html.js";

/** A form that posts its fields as JSON and reports the outcome. */
export function Form({ title, submit, children, done }) {
  const [state, setState] = useState({ busy: false, error: null, result: null });
  const onSubmit = async (event) => {
    event.preventDefault();
    const form = event.target;
    const fields = Object.fromEntries(new FormData(form).entries());
    setState({ busy: true, error: null, result: null });
    try {
      const result = await submit(fields);
      setState({ busy: false, error: null, result });
      form.reset();
    } catch (error) {
      setState({ busy: false, error, result: null });
    }
  };
  return html`<form class="panel form" onSubmit=${onSubmit} aria-label=${title}>
    <h2>${title}</h2>
    <div class="form-fields">${children}</div>
    ${state.error && html`<p class="problem" role="alert">${state.error.field ? html`<strong>${state.error.field}:</strong> ` : ""}${state.error.message}</p>`}
    ${state.result && done && html`<div class="notice" role="status">${done(state.result)}</div>`}
    <button type="submit" class="primary" disabled=${state.busy}>${state.busy ? "Saving…" : title}</button>
  </form>`;
}

export const clean = (fields) => Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== ""));
