/**
 * SVG → PNG with resvg, using only the fonts shipped in `assets/fonts` (DejaVu Sans, Bitstream Vera
 * licence), so a chart reads the same on a server with no fonts installed and system fonts never change
 * the bytes. resvg reads TTF/OTF, not WOFF.
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Resvg } from '@resvg/resvg-js';
import { FONT_FAMILY } from './svg.js';

export const FONTS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../assets/fonts');
export const FONT_FILES = ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf'].map((f) => resolve(FONTS_DIR, f));

/** Renders an SVG document to PNG bytes at its own size. */
export function svgToPng(svg: string): Uint8Array {
  for (const file of FONT_FILES) if (!existsSync(file)) throw new Error(`chart font missing: ${file}`);
  const resvg = new Resvg(svg, {
    font: {
      loadSystemFonts: false,
      fontFiles: FONT_FILES,
      defaultFontFamily: FONT_FAMILY,
      sansSerifFamily: FONT_FAMILY,
    },
    fitTo: { mode: 'original' },
    background: '#ffffff',
    logLevel: 'off',
  });
  return new Uint8Array(resvg.render().asPng());
}
