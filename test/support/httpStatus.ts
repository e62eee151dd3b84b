import { request } from 'node:http';

/** The HTTP status of a GET to `url`, or -1 when nothing answers (the server is closed). */
export function httpStatus(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(-1));
    req.end();
  });
}
