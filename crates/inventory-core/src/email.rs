//! Outgoing email through lettre: SMTP when `EMAIL_URL` is set, otherwise `.eml` files in an
//! outbox folder. Services send only after their transaction has committed, and a failed send
//! is logged, never turned into a lost change.

use std::path::PathBuf;

use lettre::message::{header::ContentType, Mailbox};
use lettre::{Message, SmtpTransport, Transport};

pub enum Mailer {
    Smtp {
        transport: Box<SmtpTransport>,
        from: Mailbox,
    },
    Outbox {
        dir: PathBuf,
        from: Mailbox,
    },
}

/// One message to send.
#[derive(Debug, Clone)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub body: String,
}

impl Mailer {
    /// `smtp://user:pass@host:port` (plain or STARTTLS when offered, `?tls=required` to insist),
    /// `smtps://...` for TLS from the first byte; no URL means the outbox folder.
    pub fn new(url: Option<&str>, from: &str, outbox: PathBuf) -> Result<Mailer, String> {
        let from: Mailbox = from.parse().map_err(|e| format!("EMAIL_FROM: {e}"))?;
        match url {
            Some(u) if !u.trim().is_empty() => {
                let transport = SmtpTransport::from_url(u.trim())
                    .map_err(|e| format!("EMAIL_URL: {e}"))?
                    .timeout(Some(std::time::Duration::from_secs(10)))
                    .build();
                Ok(Mailer::Smtp {
                    transport: Box::new(transport),
                    from,
                })
            }
            _ => Ok(Mailer::Outbox { dir: outbox, from }),
        }
    }

    pub fn send(&self, email: &Email) -> Result<(), String> {
        let from = match self {
            Mailer::Smtp { from, .. } | Mailer::Outbox { from, .. } => from.clone(),
        };
        let to: Mailbox = email
            .to
            .parse()
            .map_err(|e| format!("bad recipient: {e}"))?;
        let msg = Message::builder()
            .from(from)
            .to(to)
            .subject(&email.subject)
            .header(ContentType::TEXT_PLAIN)
            .body(email.body.clone())
            .map_err(|e| e.to_string())?;
        match self {
            Mailer::Smtp { transport, .. } => {
                transport.send(&msg).map(|_| ()).map_err(|e| e.to_string())
            }
            Mailer::Outbox { dir, .. } => {
                std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
                let name = format!(
                    "{}-{}.eml",
                    chrono::Utc::now().format("%Y%m%dT%H%M%S%.6f"),
                    hex::encode(rand::random::<[u8; 4]>())
                );
                std::fs::write(dir.join(name), msg.formatted()).map_err(|e| e.to_string())
            }
        }
    }

    /// Sends each message, logging (not returning) failures: the change they announce has
    /// already committed and must stand.
    pub fn send_all(&self, emails: &[Email]) {
        for e in emails {
            if let Err(err) = self.send(e) {
                tracing::error!(to = %e.to, subject = %e.subject, error = %err, "email not sent");
            }
        }
    }
}
