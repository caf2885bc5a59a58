// Draws the app icons as PNG with nothing but node:zlib. Run once and commit the output:
//   node scripts/make-icons.mjs
// The build does not run this; static/icons/*.png are checked in.
import { deflateSync } from 'node:zlib';
import { mkdirSync, writeFileSync } from 'node:fs';

const BG = [29, 78, 216]; // --accent (light)
const FG = [255, 255, 255];

/** Two linked rings on a solid or rounded background; `safe` shrinks the art for maskable icons. */
function draw(size, { rounded, safe }) {
	const px = new Uint8Array(size * size * 4);
	const ss = 4; // supersampling per axis, for smooth edges
	const art = safe ? 0.8 : 1; // maskable: keep the art inside the central 80% circle
	const r = size * 0.2 * art; // ring radius
	const w = size * 0.055 * art; // ring stroke
	const cy = size / 2;
	const cx1 = size / 2 - r * 0.62;
	const cx2 = size / 2 + r * 0.62;
	const corner = size * 0.22;
	for (let y = 0; y < size; y++) {
		for (let x = 0; x < size; x++) {
			let bg = 0;
			let fg = 0;
			for (let sy = 0; sy < ss; sy++) {
				for (let sx = 0; sx < ss; sx++) {
					const fx = x + (sx + 0.5) / ss;
					const fy = y + (sy + 0.5) / ss;
					const inBg = !rounded || insideRoundedSquare(fx, fy, size, corner);
					if (!inBg) continue;
					bg++;
					const d1 = Math.abs(Math.hypot(fx - cx1, fy - cy) - r);
					const d2 = Math.abs(Math.hypot(fx - cx2, fy - cy) - r);
					if (d1 <= w / 2 || d2 <= w / 2) fg++;
				}
			}
			const n = ss * ss;
			const a = bg / n;
			const t = bg ? fg / bg : 0;
			const i = (y * size + x) * 4;
			for (let c = 0; c < 3; c++) px[i + c] = Math.round(BG[c] * (1 - t) + FG[c] * t);
			px[i + 3] = Math.round(a * 255);
		}
	}
	return png(size, size, px);
}

function insideRoundedSquare(x, y, size, c) {
	const dx = Math.max(c - x, 0, x - (size - c));
	const dy = Math.max(c - y, 0, y - (size - c));
	return dx * dx + dy * dy <= c * c;
}

function png(width, height, rgba) {
	const raw = Buffer.alloc((width * 4 + 1) * height);
	for (let y = 0; y < height; y++) {
		raw[y * (width * 4 + 1)] = 0; // filter: none
		Buffer.from(rgba.buffer, y * width * 4, width * 4).copy(raw, y * (width * 4 + 1) + 1);
	}
	const ihdr = Buffer.alloc(13);
	ihdr.writeUInt32BE(width, 0);
	ihdr.writeUInt32BE(height, 4);
	ihdr[8] = 8; // bit depth
	ihdr[9] = 6; // RGBA
	return Buffer.concat([
		Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
		chunk('IHDR', ihdr),
		chunk('IDAT', deflateSync(raw, { level: 9 })),
		chunk('IEND', Buffer.alloc(0))
	]);
}

function chunk(type, data) {
	const len = Buffer.alloc(4);
	len.writeUInt32BE(data.length);
	const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
	const crc = Buffer.alloc(4);
	crc.writeUInt32BE(crc32(body));
	return Buffer.concat([len, body, crc]);
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
	let c = n;
	for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
	return c >>> 0;
});

function crc32(buf) {
	let c = 0xffffffff;
	for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
	return (c ^ 0xffffffff) >>> 0;
}

const out = new URL('../static/icons/', import.meta.url);
mkdirSync(out, { recursive: true });
const icons = {
	'icon-192.png': draw(192, { rounded: true, safe: false }),
	'icon-512.png': draw(512, { rounded: true, safe: false }),
	'icon-maskable-192.png': draw(192, { rounded: false, safe: true }),
	'icon-maskable-512.png': draw(512, { rounded: false, safe: true })
};
for (const [name, bytes] of Object.entries(icons)) {
	writeFileSync(new URL(name, out), bytes);
	console.log(`static/icons/${name} ${bytes.length} bytes`);
}
