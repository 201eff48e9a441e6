// Copies a text to the clipboard; says "Copied" once it is there.

import { useState } from "react";

export function CopyButton({ text, label }: { text: string; label: string }) {
  const [done, setDone] = useState(false);
  return (
    <button
      type="button"
      onClick={() =>
        navigator.clipboard
          ?.writeText(text)
          .then(() => setDone(true))
          .catch(() => setDone(false))
      }
    >
      {done ? "Copied" : label}
    </button>
  );
}
