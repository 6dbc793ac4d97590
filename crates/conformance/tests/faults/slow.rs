//! Slow clients: connections that trickle their headers or stop sending their body are cut
//! by the server's timeouts, and never stop it serving everyone else.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use conformance::Backend;

use crate::process::{database, free_port, Server};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn slow_clients_are_cut_off_and_others_are_served() {
    let Some(db) = database(Backend::Sqlite) else {
        return;
    };
    let server = Server::start(&db.url, free_port());
    let port = server.port;
    let started = Instant::now();
    // 150 connections: half send half a request line, half a body that never ends.
    let stragglers = tokio::task::spawn_blocking(move || {
        let mut socks = vec![];
        for i in 0..150 {
            let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
            let head: &[u8] = if i % 2 == 0 {
                b"GET /api/products HTTP/1.1\r\nHost: x\r\nX-Slow: "
            } else {
                b"POST /api/auth/password/reset HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"email\":"
            };
            s.write_all(head).unwrap();
            socks.push(s);
        }
        socks
    })
    .await
    .unwrap();
    // Everyone else is still served meanwhile.
    let c = crate::process::http();
    for _ in 0..20 {
        let r = c
            .get(format!("{}/api/products", server.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
    }
    // The stragglers are answered or closed by the server's own timeouts.
    let closed = tokio::task::spawn_blocking(move || {
        let mut closed = 0;
        for mut s in stragglers {
            s.set_read_timeout(Some(Duration::from_secs(40))).unwrap();
            let mut buf = [0u8; 128];
            match s.read(&mut buf) {
                Ok(0) => closed += 1,
                Ok(n) => {
                    let text = String::from_utf8_lossy(&buf[..n]);
                    assert!(text.contains(" 408 ") || text.contains(" 400 "), "{text}");
                    closed += 1;
                }
                Err(e) => panic!("a slow client was never cut off: {e}"),
            }
        }
        closed
    })
    .await
    .unwrap();
    assert_eq!(closed, 150);
    eprintln!(
        "slow clients: 150 stalled connections cut off by the server within {:.1}s, 20 other requests served meanwhile",
        started.elapsed().as_secs_f64()
    );
}
