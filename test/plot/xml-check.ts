/**
 * A tiny well-formedness check for the SVG the plots emit (no XML parser ships in node_modules):
 * tags balance, attributes are quoted, `<` only opens tags, `&` only starts the five XML entities
 * or a numeric reference, and there is exactly one root element.
 */
const ENTITY = /&(?:amp|lt|gt|quot|apos|#\d+);/y;
const TAG = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+="[^"<]*")*)\s*(\/?)>/y;

function checkEntities(part: string, where: number): void {
  for (let i = part.indexOf('&'); i >= 0; i = part.indexOf('&', i + 1)) {
    ENTITY.lastIndex = i;
    if (!ENTITY.test(part)) throw new Error(`bare & at ${where + i}: ${part.slice(i, i + 12)}`);
  }
}

/** Throws with the first problem found; returns the root element's name. */
export function checkXml(xml: string): string {
  const stack: string[] = [];
  let roots: string[] = [];
  let i = 0;
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    const textPart = xml.slice(i, lt < 0 ? xml.length : lt);
    checkEntities(textPart, i);
    if (lt < 0) break;
    if (stack.length === 0 && textPart.trim() !== '') throw new Error(`text outside the root at ${i}`);
    TAG.lastIndex = lt;
    const m = TAG.exec(xml);
    if (m === null) throw new Error(`malformed tag at ${lt}: ${xml.slice(lt, lt + 40)}`);
    const [, closing, name, attributes, selfClosing] = m as unknown as [
      string,
      string,
      string,
      string,
      string,
    ];
    checkEntities(attributes, lt);
    if (closing === '/') {
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> at ${lt} closes <${open}>`);
    } else {
      if (stack.length === 0) roots = [...roots, name];
      if (selfClosing !== '/') stack.push(name);
    }
    i = TAG.lastIndex;
  }
  if (stack.length > 0) throw new Error(`unclosed <${stack.join('>, <')}>`);
  if (roots.length !== 1) throw new Error(`expected one root element; got ${roots.join(', ')}`);
  return roots[0] as string;
}

/** Every value of attribute `name` in `xml`, in document order. */
export function attributeValues(xml: string, name: string): string[] {
  return [...xml.matchAll(new RegExp(`\\s${name}="([^"]*)"`, 'g'))].map((m) => m[1] as string);
}

/** The elements `<tag ...>` whose class attribute contains `className`. */
export function elements(xml: string, tag: string, className: string): string[] {
  return [...xml.matchAll(new RegExp(`<${tag}\\s[^>]*class="[^"]*\\b${className}\\b[^"]*"[^>]*>`, 'g'))].map(
    (m) => m[0],
  );
}

/** Attribute `name` of one element's text, as a number. */
export function numberAttr(element: string, name: string): number {
  const m = new RegExp(`\\s${name}="([^"]*)"`).exec(element);
  if (m === null) throw new Error(`no ${name} in ${element}`);
  return Number(m[1]);
}
