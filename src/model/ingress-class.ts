// Which Ingresses this controller serves (INGRESS-SEMANTICS.md, "Ingress class").

import { asObject, asString, type ObjectView } from './objects.ts';
import type { Ingress } from './ingress.ts';

export interface ClassOptions {
  /** spec.controller value of IngressClasses we own (default `archway.dev/ingress-controller`). */
  controllerName: string;
  /** Value of the legacy `kubernetes.io/ingress.class` annotation we answer to (default `archway`). */
  ingressClass: string;
  /** Serve Ingresses that name no class at all. */
  watchWithoutClass: boolean;
}

export const LEGACY_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';
export const DEFAULT_CLASS_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class';

export type ClassDecision = { served: true; className: string } | { served: false; reason: string };

export function decideClass(ing: Ingress, store: ObjectView, opts: ClassOptions): ClassDecision {
  if (ing.className !== undefined) {
    const cls = store.get('IngressClass', '', ing.className);
    if (!cls) return { served: false, reason: `IngressClass ${JSON.stringify(ing.className)} does not exist` };
    const controller = asString(asObject(cls.raw.spec)?.controller);
    if (controller !== opts.controllerName) {
      return { served: false, reason: `IngressClass ${JSON.stringify(ing.className)} belongs to controller ${JSON.stringify(controller ?? '')}, not ${JSON.stringify(opts.controllerName)}` };
    }
    return { served: true, className: ing.className };
  }
  const legacy = ing.annotations[LEGACY_CLASS_ANNOTATION];
  if (legacy !== undefined) {
    return legacy === opts.ingressClass
      ? { served: true, className: legacy }
      : { served: false, reason: `annotation ${LEGACY_CLASS_ANNOTATION}=${JSON.stringify(legacy)} is not ${JSON.stringify(opts.ingressClass)}` };
  }
  const defaultClass = store.list('IngressClass').find((c) => {
    const spec = asObject(c.raw.spec);
    const ann = asObject(asObject(c.raw.metadata)?.annotations);
    return asString(spec?.controller) === opts.controllerName && asString(ann?.[DEFAULT_CLASS_ANNOTATION]) === 'true';
  });
  if (defaultClass) return { served: true, className: defaultClass.name };
  if (opts.watchWithoutClass) return { served: true, className: '' };
  return { served: false, reason: 'it names no ingress class, no IngressClass of ours is the default, and --watch-ingress-without-class is off' };
}
