// Preact with htm: components are plain functions returning html`…` templates.
import { h } from "preact";
import htm from "htm";

export const html = htm.bind(h);
