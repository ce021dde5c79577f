/** Code-point classes shared by the text view (what to drop or fold before matching) and the hidden-Unicode rules. */

export type HiddenClass = 'tag' | 'zero-width' | 'bidi' | 'variation' | 'mark' | 'soft';

/** Class of an invisible or layout-control code point, or undefined for ordinary characters. */
export function hiddenClass(cp: number): HiddenClass | undefined {
  if (cp < 0xad) return undefined;
  if (cp === 0xad) return 'soft';
  if (cp >= 0xe0000 && cp <= 0xe007f) return 'tag';
  if ((cp >= 0xfe00 && cp <= 0xfe0f) || (cp >= 0xe0100 && cp <= 0xe01ef)) return 'variation';
  if ((cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069)) return 'bidi';
  if (cp === 0x200e || cp === 0x200f || cp === 0x061c) return 'mark';
  if (
    (cp >= 0x200b && cp <= 0x200d) ||
    (cp >= 0x2060 && cp <= 0x2064) ||
    (cp >= 0x206a && cp <= 0x206f) ||
    cp === 0xfeff ||
    cp === 0x034f ||
    cp === 0x180e ||
    cp === 0x17b4 ||
    cp === 0x17b5 ||
    cp === 0x115f ||
    cp === 0x1160 ||
    cp === 0x3164 ||
    cp === 0xffa0 ||
    (cp >= 0x1d173 && cp <= 0x1d17a)
  )
    return 'zero-width';
  return undefined;
}

/** Scripts whose shaping legitimately uses ZWJ/ZWNJ/ZWSP (Arabic, Syriac, Indic, Thai, Khmer, Myanmar, CJK …). */
export function isJoiningScript(cp: number): boolean {
  return (
    (cp >= 0x0600 && cp <= 0x08ff) ||
    (cp >= 0x0900 && cp <= 0x0dff) ||
    (cp >= 0x0e00 && cp <= 0x0eff) ||
    (cp >= 0x1000 && cp <= 0x109f) ||
    (cp >= 0x1780 && cp <= 0x18af) ||
    (cp >= 0x3000 && cp <= 0x9fff) ||
    (cp >= 0xfb50 && cp <= 0xfdff) ||
    (cp >= 0xfe70 && cp <= 0xfefc)
  );
}

export function isRtlLetter(cp: number): boolean {
  return (cp >= 0x0590 && cp <= 0x08ff) || (cp >= 0xfb1d && cp <= 0xfdff) || (cp >= 0xfe70 && cp <= 0xfefc);
}

export function isCjkIdeograph(cp: number): boolean {
  return (cp >= 0x3400 && cp <= 0x9fff) || (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0x20000 && cp <= 0x3134f);
}

const PICTO = /\p{Extended_Pictographic}/u;
export function isPictographic(cp: number): boolean {
  return cp >= 0xa9 && PICTO.test(String.fromCodePoint(cp));
}

/** Emoji modifiers and keycap/VS16 that sit between a pictograph and a following ZWJ. */
export function isEmojiModifier(cp: number): boolean {
  return (cp >= 0x1f3fb && cp <= 0x1f3ff) || cp === 0xfe0f || cp === 0x20e3;
}

/** Cyrillic and Greek letters that render like Latin ones, folded so "ignоre" (Cyrillic о) matches. */
const CONFUSABLE = new Map<number, string>();
for (const [from, to] of [
  ['аеорсухѕіјԁӏɡ', 'aeopcyxsijdlg'],
  ['АВЕКМНОРСТХІЈЅҮ', 'ABEKMHOPCTXIJSY'],
  ['αονριεκυχ', 'aovpiekux'],
  ['ΑΒΕΖΗΙΚΜΝΟΡΤΥΧ', 'ABEZHIKMNOPTYX'],
] as const) {
  for (let i = 0; i < from.length; i++) CONFUSABLE.set(from.charCodeAt(i), to[i]!);
}

/**
 * The ASCII-ish form of one code point for matching, or undefined to keep it as is: confusables,
 * fullwidth forms, and the compatibility blocks (math alphanumerics, ligatures, enclosed letters) via NFKC.
 */
export function foldCodePoint(cp: number): string | undefined {
  const c = CONFUSABLE.get(cp);
  if (c !== undefined) return c;
  if (cp >= 0xff01 && cp <= 0xff5e) return String.fromCharCode(cp - 0xfee0);
  if (cp === 0x3000) return ' ';
  if ((cp >= 0x1d400 && cp <= 0x1d7ff) || (cp >= 0x2100 && cp <= 0x214f) || (cp >= 0xfb00 && cp <= 0xfb06) || (cp >= 0x2460 && cp <= 0x24ff) || (cp >= 0x1f100 && cp <= 0x1f1ff)) {
    const n = String.fromCodePoint(cp).normalize('NFKC');
    return n === String.fromCodePoint(cp) ? undefined : n;
  }
  return undefined;
}
