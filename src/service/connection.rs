//! Accepted connections with a lingering close.
//!
//! When a server closes a socket while the peer's last frames (HTTP/2 window updates, pings)
//! are still unread, the kernel answers with a reset, and the peer may lose the tail of a
//! response it has not read yet. A [`LingeringStream`] closes like web servers do: on drop it
//! shuts its write side and keeps reading (and discarding) until the peer closes or
//! [`LINGER`] passes, on a task of a [`TaskTracker`] that shutdown waits for.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio_util::task::TaskTracker;
use tonic::transport::server::{Connected, TcpConnectInfo};

/// Longest a closed connection keeps draining the peer's bytes.
pub const LINGER: Duration = Duration::from_secs(2);

/// A TCP connection that closes without resetting the peer.
#[derive(Debug)]
pub struct LingeringStream {
    stream: Option<TcpStream>,
    lingering: TaskTracker,
}

impl LingeringStream {
    /// Wraps an accepted connection; its closing task joins `lingering`.
    pub fn new(stream: TcpStream, lingering: TaskTracker) -> Self {
        Self {
            stream: Some(stream),
            lingering,
        }
    }

    fn stream(&mut self) -> Pin<&mut TcpStream> {
        Pin::new(
            self.stream
                .as_mut()
                .expect("the stream is only taken on drop"),
        )
    }
}

impl Drop for LingeringStream {
    fn drop(&mut self) {
        let Some(mut stream) = self.stream.take() else {
            return;
        };
        if tokio::runtime::Handle::try_current().is_err() {
            return;
        }
        self.lingering.spawn(async move {
            let _ = stream.shutdown().await;
            let mut sink = [0u8; 4096];
            let _ = tokio::time::timeout(LINGER, async {
                while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
            })
            .await;
        });
    }
}

impl AsyncRead for LingeringStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.stream().poll_read(cx, buf)
    }
}

impl AsyncWrite for LingeringStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.stream().poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.stream().poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.stream().poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.stream().poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.as_ref().is_some_and(|s| s.is_write_vectored())
    }
}

impl Connected for LingeringStream {
    type ConnectInfo = TcpConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.stream
            .as_ref()
            .expect("the stream is only taken on drop")
            .connect_info()
    }
}
