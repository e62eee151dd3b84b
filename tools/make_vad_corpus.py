#!/usr/bin/env python3
"""Builds a synthetic voice-activity corpus: WAV clips with `<name>.labels.ndjson` beside each.

    python3 tools/make_vad_corpus.py --split train --clips 1200 --seed 1 --out corpus/train
    python3 tools/make_vad_corpus.py --split dev --clips 120 --seed 3 --out corpus/dev
    python3 tools/make_vad_corpus.py --split valid --clips 120 --seed 2 --out corpus/valid

Speech comes from espeak-ng (voices, variants, rates, pitches, languages), non-speech from sox
and numpy (noises of any spectral slope, tones, chirps, harmonic sweeps, plucked chords and
note sequences as a stand-in for music, clicks and bursts as events; half of the training
beds get a slow random amplitude modulation). The three splits use DISJOINT languages, voice
variants and noise types: `train` to fit, `dev` to choose (early stopping, smoothing), `valid`
held out, scored once, so its score estimates how the model does on sources it never heard. Frame labels
come from the clean speech's energy before mixing: a 10 ms frame is speech when its RMS is
within 40 dB of the utterance's loudest frame; gaps shorter than 60 ms are closed.

Every clip is reproducible from `--seed` (sox runs with -R, its repeatable random numbers).
Clips are 16 kHz mono 16-bit, `--seconds` long (default 4). Each clip's labels file holds one
line per speech segment: {"start": s, "end": s, "label": "speech"}; speech-free clips have an
empty labels file. `conditions.ndjson` in --out lists each clip's condition (noise, snr, ...).
Needs espeak-ng, sox and numpy (Debian: apt-get install espeak-ng sox python3-numpy).
flite (apt-get install flite) is a second synthesizer: `--flite-share 0.3` has 30% of the
utterances spoken by flite's English voices (train: kal, kal16, awb); `--synth flite` has all of
them spoken by flite (dev/valid: the voices rms, slt, which training never hears).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import wave

import numpy as np

RATE = 16000
FRAME = 160  # 10 ms

SPLITS = {
    'train': dict(
        languages=['en', 'en-us', 'de', 'fr', 'es', 'it', 'pt', 'nl', 'ru', 'pl', 'sv', 'hi', 'cmn', 'ja', 'sw', 'ro'],
        variants=['', '+m1', '+m2', '+m3', '+f1', '+f2', '+f3', '+m7', '+klatt', '+Andy', '+Annie', '+Mr serious'],
        noises=['whitenoise', 'pinknoise', 'sine', 'chirp', 'pluck', 'square_hum', 'am_noise', 'harmonic', 'clicks',
                'band_noise', 'multi_tone', 'sloped_noise', 'harmonic_sweep', 'melody'],
        snr=(-2.0, 25.0),
        layered=0.3, telephone=0.15, modulated=0.5,
        rates=(110, 230), pitches=(15, 85), flite_voices=['kal', 'kal16', 'awb'],
    ),
    # for tuning (smoothing, model choice): sources neither `train` nor `valid` use, `valid`'s layout
    'dev': dict(
        languages=['bg', 'sk', 'hr', 'ca', 'nb', 'lt', 'ta', 'bn', 'uk', 'ms'],
        variants=['+m5', '+m8', '+klatt3', '+klatt4', '+Alex', '+Linda', '+Steph', '+Michael'],
        noises=['tpdf_hiss', 'phaser_noise', 'echo_pluck', 'gated_noise', 'vibrato_tone', 'exp_tone'],
        snr=None,
        conditions_snr=[None, 20.0, 10.0, 5.0, 0.0],
        layered=0.0, telephone=0.0, modulated=0.0,
        rates=(100, 240), pitches=(10, 90), flite_voices=['rms', 'slt'],
    ),
    'valid': dict(
        languages=['tr', 'fi', 'cs', 'el', 'ar', 'vi', 'hu', 'id', 'ko', 'da'],
        variants=['+f4', '+f5', '+m4', '+m6', '+klatt2', '+Denis', '+belinda', '+david'],
        noises=['brownnoise', 'sawtooth', 'trapezium_sweep', 'chord', 'tremolo_noise', 'silence'],
        snr=None,  # fixed conditions below
        conditions_snr=[None, 20.0, 10.0, 5.0, 0.0],
        layered=0.0, telephone=0.0, modulated=0.0,
        rates=(100, 240), pitches=(10, 90), flite_voices=['rms', 'slt'],
    ),
}

CONSONANTS = 'bcdfghjklmnprstvwz'
VOWELS = 'aeiou'


def words(rng, n):
    out = []
    for _ in range(n):
        syl = rng.randint(1, 4)
        w = ''
        for _ in range(syl):
            w += rng.choice(list(CONSONANTS)) + rng.choice(list(VOWELS))
            if rng.rand() < 0.3:
                w += rng.choice(list(CONSONANTS))
        out.append(w)
    text = ' '.join(out)
    # punctuation gives espeak-ng its pauses
    return text.replace(' ', ', ', 1) + '.'


def run(cmd):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def read_wav(path):
    with wave.open(path, 'rb') as w:
        assert w.getsampwidth() == 2
        data = np.frombuffer(w.readframes(w.getnframes()), dtype='<i2').astype(np.float64) / 32768
        ch = w.getnchannels()
        if ch > 1:
            data = data.reshape(-1, ch).mean(1)
        return data, w.getframerate()


def write_wav(path, x):
    pcm = np.clip(np.round(x * 32767), -32768, 32767).astype('<i2')
    with wave.open(path, 'wb') as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm.tobytes())


def speech(rng, cfg, tmp, n_samples):
    lang = cfg['languages'][rng.randint(len(cfg['languages']))]
    variant = cfg['variants'][rng.randint(len(cfg['variants']))]
    voice = lang + variant if variant.startswith('+') else lang
    rate = rng.randint(*cfg['rates'])
    pitch = rng.randint(*cfg['pitches'])
    raw = os.path.join(tmp, 'say.wav')
    out = os.path.join(tmp, 'say16.wav')
    share = cfg.get('flite_share', 0.0)
    if cfg.get('synth') == 'flite' or (share > 0 and rng.rand() < share):
        # a second synthesizer: flite's English voices (the split's own), stretched and re-pitched
        voices = cfg['flite_voices']
        voice = voices[rng.randint(len(voices))]
        run(['flite', '-voice', voice, '--setf', f'duration_stretch={170 / rate:.2f}', '--setf', f'int_f0_target_mean={60 + 2 * pitch}',
             '-t', words(rng, rng.randint(3, 9)), '-o', raw])
    else:
        run(['espeak-ng', '-v', voice, '-s', str(rate), '-p', str(pitch), '-w', raw, words(rng, rng.randint(3, 9))])
    run(['sox', '-R', raw, '-r', str(RATE), '-b', '16', '-c', '1', out])
    x, _ = read_wav(out)
    x = x[: n_samples]
    peak = np.max(np.abs(x)) or 1.0
    return x / peak * 10 ** (rng.uniform(-12, -1) / 20), dict(voice=voice, rate=rate, pitch=pitch)


def noise(rng, kind, tmp, seconds):
    out = os.path.join(tmp, 'noise.wav')
    d = str(seconds)
    f1, f2 = rng.uniform(80, 3000), rng.uniform(80, 6000)
    base = ['sox', '-R', '-n', '-r', str(RATE), '-b', '16', '-c', '1', out, 'synth', d]
    if kind in ('whitenoise', 'pinknoise', 'brownnoise'):
        # sox -R repeats its noise: vary it with a random band and a random start
        run(['sox', '-R', '-n', '-r', str(RATE), '-b', '16', '-c', '1', out, 'synth', str(seconds + 3), kind,
             'sinc', f'{rng.uniform(20, 300):.0f}-{rng.uniform(3500, 7900):.0f}', 'trim', f'{rng.uniform(0, 3):.3f}', d])
    elif kind == 'sine':
        run(base + ['sine', f'{f1:.1f}'])
    elif kind == 'chirp':
        run(base + ['sine', f'{f1:.1f}-{f2:.1f}'])
    elif kind == 'square_hum':
        run(base + ['square', f'{rng.uniform(50, 200):.1f}', 'lowpass', '2000'])
    elif kind == 'pluck':
        notes = [rng.uniform(110, 880) for _ in range(3)]
        run(base + ['pluck', f'{notes[0]:.1f}', 'pluck', f'{notes[1]:.1f}', 'pluck', f'{notes[2]:.1f}', 'remix', '-', 'repeat', '0'])
    elif kind == 'sawtooth':
        run(base + ['sawtooth', f'{f1:.1f}', 'lowpass', '3000'])
    elif kind == 'trapezium_sweep':
        run(base + ['trapezium', f'{f1:.1f}-{f2:.1f}'])
    elif kind == 'chord':
        root = rng.uniform(130, 520)
        run(base + ['sine', f'{root:.1f}', 'sine', f'{root * 1.26:.1f}', 'sine', f'{root * 1.5:.1f}', 'remix', '-',
                    'tremolo', f'{rng.uniform(1, 4):.2f}', '60'])
    elif kind == 'tremolo_noise':
        run(base + ['pinknoise', 'tremolo', f'{rng.uniform(0.5, 3):.2f}', '100', 'highpass', f'{rng.uniform(100, 1500):.0f}'])
    elif kind == 'am_noise':
        run(base + ['whitenoise', 'tremolo', f'{rng.uniform(3, 8):.2f}', f'{rng.uniform(50, 100):.0f}',
                    'sinc', f'{rng.uniform(100, 800):.0f}-{rng.uniform(2000, 7000):.0f}'])
    elif kind == 'harmonic':
        run(base + ['triangle', f'{f1 / 10 + 80:.1f}', 'lowpass', f'{rng.uniform(800, 4000):.0f}',
                    'tremolo', f'{rng.uniform(0.5, 6):.2f}', f'{max(1.0, rng.uniform(0, 90)):.0f}'])  # sox refuses depth 0
    elif kind == 'band_noise':
        run(base + ['pinknoise', 'bandpass', f'{f1:.0f}', f'{rng.uniform(0.3, 3):.2f}q'])
    elif kind == 'multi_tone':
        run(base + ['sine', f'{f1:.1f}', 'sine', f'{f2:.1f}', 'square', f'{rng.uniform(100, 1000):.1f}', 'remix', '-',
                    'lowpass', '5000'])
    elif kind == 'sloped_noise':
        # Gaussian noise with a random spectral slope (-9 to +3 dB per octave: rumble to hiss)
        n = int(seconds * RATE)
        spec = np.fft.rfft(rng.randn(n))
        f = np.maximum(np.arange(len(spec)) * RATE / n, 20.0)
        spec *= (f / 1000.0) ** (rng.uniform(-9, 3) / 6.02)
        x = np.fft.irfft(spec, n)
        return x / (np.sqrt(np.mean(x ** 2)) or 1.0)
    elif kind == 'harmonic_sweep':
        # sirens, engines, whistles: a harmonic-rich tone gliding linearly, quadratically or exponentially
        wave_kind = ['square', 'triangle', 'sawtooth'][rng.randint(3)]
        glide = [':', '+', '/'][rng.randint(3)]
        top = [1500, 6000][rng.randint(2)]
        run(base + [wave_kind, f'{rng.uniform(60, top):.1f}{glide}{rng.uniform(60, top):.1f}', 'lowpass', f'{rng.uniform(1500, 7900):.0f}'])
    elif kind == 'melody':
        return melody(rng, seconds)
    elif kind == 'tpdf_hiss':
        run(base + ['tpdfnoise', 'highpass', f'{rng.uniform(500, 3000):.0f}'])
    elif kind == 'phaser_noise':
        run(base + ['pinknoise', 'phaser', '0.8', '0.74', '3', '0.4', f'{rng.uniform(0.2, 2):.2f}', '-t'])
    elif kind == 'echo_pluck':
        run(base + ['pluck', f'{rng.uniform(110, 660):.1f}', 'repeat', '0', 'echo', '0.8', '0.8', '120', '0.5', '300', '0.3'])
    elif kind == 'gated_noise':
        # white noise switched on and off every 100-800 ms
        n = int(seconds * RATE)
        x, on, at = np.zeros(n), rng.rand() < 0.5, 0
        while at < n:
            length = int(rng.uniform(0.1, 0.8) * RATE)
            if on:
                x[at:at + length] = rng.randn(min(length, n - at))
            on, at = not on, at + length
        return x / (np.sqrt(np.mean(x ** 2)) or 1.0)
    elif kind == 'vibrato_tone':
        n = int(seconds * RATE)
        t = np.arange(n) / RATE
        f0 = rng.uniform(150, 600) * (1 + 0.03 * np.sin(2 * np.pi * rng.uniform(4, 7) * t))
        phase = 2 * np.pi * np.cumsum(f0) / RATE
        x = sum(np.sin(k * phase) / k for k in range(1, 6))
        return x / (np.sqrt(np.mean(x ** 2)) or 1.0)
    elif kind == 'exp_tone':
        run(base + ['exp', f'{f1 / 3 + 60:.1f}', 'lowpass', '4000'])
    elif kind == 'clicks':
        # events: bursts of filtered noise and decaying tones, 10-300 ms each
        x = np.zeros(int(seconds * RATE))
        for _ in range(rng.randint(2, 12)):
            n = int(rng.uniform(0.01, 0.3) * RATE)
            at = rng.randint(0, len(x) - n)
            env = np.exp(-np.arange(n) / (n * rng.uniform(0.1, 0.5)))
            if rng.rand() < 0.5:
                burst = rng.randn(n)
            else:
                burst = np.sin(2 * np.pi * rng.uniform(200, 5000) * np.arange(n) / RATE)
            x[at:at + n] += burst * env * rng.uniform(0.2, 1)
        return x / (np.sqrt(np.mean(x ** 2)) or 1.0)
    elif kind == 'silence':
        return np.zeros(int(seconds * RATE))
    else:
        raise ValueError(kind)
    x, _ = read_wav(out)
    x = np.resize(x, int(seconds * RATE))
    rms = np.sqrt(np.mean(x ** 2)) or 1.0
    return x / rms


def melody(rng, seconds):
    """A music stand-in: notes of 80-600 ms, each a few harmonics with an attack and decay, some with vibrato."""
    n = int(seconds * RATE)
    x = np.zeros(n)
    at = 0
    while at < n:
        length = min(int(rng.uniform(0.08, 0.6) * RATE), n - at)
        t = np.arange(length) / RATE
        f0 = 110 * 2 ** (rng.randint(0, 36) / 12) * (1 + rng.uniform(0, 0.02) * np.sin(2 * np.pi * rng.uniform(4, 7) * t))
        phase = 2 * np.pi * np.cumsum(f0) / RATE
        tone = sum(np.sin(k * phase) * rng.uniform(0.1, 1) / k for k in range(1, rng.randint(2, 8)))
        env = np.minimum(1, t / 0.01) * np.exp(-t / rng.uniform(0.05, 0.6))
        x[at:at + length] += tone * env
        at += length
    return x / (np.sqrt(np.mean(x ** 2)) or 1.0)


def modulate(rng, x):
    """Random slow amplitude modulation (0.2-10 Hz sine, or a smoothed random walk), 30-100% deep;
    half the time 100%, so the sound fades out to silence and back in without being speech."""
    t = np.arange(len(x)) / RATE
    depth = 1.0 if rng.rand() < 0.5 else rng.uniform(0.3, 1.0)
    if rng.rand() < 0.5:
        env = 0.5 + 0.5 * np.sin(2 * np.pi * rng.uniform(0.2, 10) * t + rng.uniform(0, 2 * np.pi))
    else:
        knots = rng.rand(int(len(x) / RATE * rng.uniform(1, 12)) + 2)
        env = np.interp(t, np.linspace(0, t[-1], len(knots)), knots)
    return x * (1 - depth + depth * env)


def frame_labels(clean):
    n = len(clean) // FRAME
    fr = clean[: n * FRAME].reshape(n, FRAME)
    rms = np.sqrt(np.mean(fr ** 2, axis=1))
    if rms.max() <= 0:
        return np.zeros(n, dtype=bool)
    on = rms > rms.max() * 10 ** (-40 / 20)
    # close gaps shorter than 60 ms
    idx = np.flatnonzero(on)
    for a, b in zip(idx[:-1], idx[1:]):
        if 1 < b - a <= 6:
            on[a:b] = True
    return on


def segments(on):
    segs, start = [], None
    for i, v in enumerate(on):
        if v and start is None:
            start = i
        if not v and start is not None:
            segs.append((start, i))
            start = None
    if start is not None:
        segs.append((start, len(on)))
    return [dict(start=round(a * FRAME / RATE, 3), end=round(b * FRAME / RATE, 3), label='speech') for a, b in segs]


def make_clip(rng, cfg, split, index, tmp, seconds):
    n = int(seconds * RATE)
    clean = np.zeros(n)
    kinds = cfg['noises']
    kind = kinds[index % len(kinds)] if split != 'train' else kinds[rng.randint(len(kinds))]
    # a third of the clips hold no speech at all
    has_speech = rng.rand() >= 1 / 3
    info = dict(noise=kind)
    if has_speech:
        for _ in range(rng.randint(1, 3)):
            s, meta = speech(rng, cfg, tmp, n)
            at = rng.randint(0, max(1, n - len(s) // 2))
            part = s[: n - at]
            clean[at: at + len(part)] += part
            info.setdefault('voices', []).append(meta['voice'])
    if split != 'train':
        snr = cfg['conditions_snr'][(index // len(kinds)) % len(cfg['conditions_snr'])]
    else:
        snr = None if rng.rand() < 0.1 else rng.uniform(*cfg['snr'])
    bed = noise(rng, kind, tmp, seconds) if kind != 'silence' else np.zeros(n)
    if cfg['modulated'] > 0 and rng.rand() < cfg['modulated']:  # no draw for the fixed splits: they stay as they were
        bed = modulate(rng, bed)
        info['modulated'] = True
    if rng.rand() < cfg['layered']:
        other = kinds[rng.randint(len(kinds))]
        bed = bed + noise(rng, other, tmp, seconds) * 10 ** (rng.uniform(-15, 0) / 20)
        info['layer'] = other
    speech_rms = np.sqrt(np.mean(clean[np.abs(clean) > 0] ** 2)) if has_speech else 10 ** (rng.uniform(-30, -12) / 20)
    if not has_speech:
        gain = 10 ** (rng.uniform(-45, -10) / 20)  # speech-free: the noise alone, at any level
    elif snr is None:
        gain = 10 ** (rng.uniform(-60, -45) / 20)  # a faint floor, "clean"
    else:
        gain = speech_rms / 10 ** (snr / 20)
    mix = clean + bed * gain
    if rng.rand() < cfg['telephone']:
        # band-limited audio (8 kHz sources resampled): labels stay those of the clean speech
        from numpy.fft import irfft, rfft
        spec = rfft(mix)
        f = np.arange(len(spec)) * RATE / n
        spec[(f > rng.uniform(3300, 3900)) | (f < 250)] = 0
        mix = irfft(spec, n)
        info['telephone'] = True
    level = 10 ** (rng.uniform(-20, 0) / 20) if split == 'train' else 1.0
    mix *= level
    clean *= level
    peak = np.max(np.abs(mix))
    if peak > 0.99:
        mix *= 0.99 / peak
        clean *= 0.99 / peak
    info.update(snr=snr, speech=bool(has_speech))
    return mix, frame_labels(clean), info


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--split', choices=sorted(SPLITS), default='train')
    ap.add_argument('--clips', type=int, default=360)
    ap.add_argument('--seconds', type=float, default=4.0)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--out', required=True)
    ap.add_argument('--synth', choices=['espeak-ng', 'flite'], default='espeak-ng',
                    help="speech synthesizer (flite: the split's flite voices; apt-get install flite)")
    ap.add_argument('--flite-share', type=float, default=0.0,
                    help='share of the utterances spoken by flite instead of espeak-ng (default 0)')
    args = ap.parse_args(argv)
    cfg = dict(SPLITS[args.split], synth=args.synth, flite_share=args.flite_share)
    os.makedirs(args.out, exist_ok=True)
    rng = np.random.RandomState(args.seed)
    conditions = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.clips):
            mix, on, info = make_clip(rng, cfg, args.split, i, tmp, args.seconds)
            name = f'{args.split}_{i:04d}'
            write_wav(os.path.join(args.out, name + '.wav'), mix)
            with open(os.path.join(args.out, name + '.labels.ndjson'), 'w') as f:
                for seg in segments(on):
                    f.write(json.dumps(seg) + '\n')
            conditions.append(dict(name=name, **info))
            if sys.stderr.isatty():
                sys.stderr.write(f'\r{i + 1}/{args.clips}')
    with open(os.path.join(args.out, 'conditions.ndjson'), 'w') as f:
        for c in conditions:
            f.write(json.dumps(c) + '\n')
    print(f'{args.clips} clips in {args.out}', file=sys.stderr)


if __name__ == '__main__':
    main()
