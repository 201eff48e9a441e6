// Where the mapping panel inserts: the expression input that last had focus.

import { createContext } from "react";

export interface MappingTarget {
  element: HTMLInputElement | HTMLTextAreaElement;
  apply: (value: string) => void;
}

export interface MappingTargetRef {
  current: MappingTarget | null;
}

export const MappingContext = createContext<MappingTargetRef>({ current: null });

export function insertAt(target: MappingTarget, text: string): void {
  const { element } = target;
  const start = element.selectionStart ?? element.value.length;
  const end = element.selectionEnd ?? element.value.length;
  const value = element.value.slice(0, start) + text + element.value.slice(end);
  target.apply(value);
  requestAnimationFrame(() => {
    element.focus();
    element.setSelectionRange(start + text.length, start + text.length);
  });
}
