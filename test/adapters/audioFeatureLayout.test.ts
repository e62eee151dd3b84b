import { describe, expect, it } from 'vitest';
import { audioFeatureLayout } from '../../src/adapters/audioFeatureLayout.js';

describe('audioFeatureLayout', () => {
  it('lays features out in the given order, vectors expanded in place', () => {
    const layout = audioFeatureLayout({
      features: ['rms', 'mfcc', 'chroma', 'loudness', 'zcr', 'melBands', 'amplitudeSpectrum', 'complexSpectrum', 'buffer'],
      bufferSize: 256, mfccCoefficients: 10, melBands: 20, chromaBands: 12, barkBands: 16,
    });
    expect(layout.entries.map((e) => [e.feature, e.offset, e.length])).toEqual([
      ['rms', 0, 1],
      ['mfcc', 1, 10],
      ['chroma', 11, 12],
      ['loudness', 23, 17],
      ['zcr', 40, 1],
      ['melBands', 41, 20],
      ['amplitudeSpectrum', 61, 128],
      ['complexSpectrum', 189, 512],
      ['buffer', 701, 256],
    ]);
    expect(layout.length).toBe(957);
    expect(layout.labels).toHaveLength(957);
    expect(layout.labels.slice(0, 3)).toEqual(['rms', 'mfcc[0]', 'mfcc[1]']);
    expect(layout.labels[23]).toBe('loudness.specific[0]');
    expect(layout.labels[39]).toBe('loudness.total');
    expect(layout.labels[189]).toBe('complexSpectrum.real[0]');
    expect(layout.labels[445]).toBe('complexSpectrum.imag[0]');
  });

  it('uses Meyda defaults: 13 MFCCs, 26 mel bands, 12 chroma bands, 24 bark bands', () => {
    const layout = audioFeatureLayout({ features: ['mfcc', 'melBands', 'chroma', 'loudness'] });
    expect(layout.entries.map((e) => e.length)).toEqual([13, 26, 12, 25]);
  });

  it('accepts every scalar Meyda feature except the broken spectralFlux', () => {
    const scalars = ['energy', 'spectralSlope', 'spectralCentroid', 'spectralRolloff', 'spectralFlatness', 'spectralSpread',
      'spectralSkewness', 'spectralKurtosis', 'zcr', 'perceptualSpread', 'perceptualSharpness', 'spectralCrest', 'rms'];
    expect(audioFeatureLayout({ features: scalars }).length).toBe(scalars.length);
    expect(() => audioFeatureLayout({ features: ['spectralFlux'] })).toThrow(expect.objectContaining({ code: 'SEQ_INVALID_OPTION' }));
  });
});
