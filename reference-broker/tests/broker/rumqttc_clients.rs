//! Happy paths with an independent client implementation (rumqttc), so the suite does not
//! only test the broker against the codec it shares.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::support::*;

// 3.1.1 MQTT-4.3.1-1, MQTT-4.3.2-2, MQTT-4.3.3-2, MQTT-3.8.4-6: rumqttc's 3.1.1 client
// subscribes at QoS 2 and gets back its own QoS 0, 1 and 2 messages, each at its QoS.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rumqttc_v311_client_round_trips_qos_0_1_2() {
    use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
    let b = broker().await;
    let t = topic("rumqttc4");
    let mut options = MqttOptions::new(
        client_id("rumqttc4"),
        b.addr.ip().to_string(),
        b.addr.port(),
    );
    options.set_keep_alive(Duration::from_secs(30));
    let (client, mut eventloop) = AsyncClient::new(options, 16);
    client
        .subscribe(t.as_str(), QoS::ExactlyOnce)
        .await
        .expect("subscribe queued");
    for (qos, payload) in [
        (QoS::AtMostOnce, "zero"),
        (QoS::AtLeastOnce, "one"),
        (QoS::ExactlyOnce, "two"),
    ] {
        client
            .publish(t.as_str(), qos, false, payload)
            .await
            .expect("publish queued");
    }
    let mut got = BTreeMap::new();
    let run = async {
        while got.len() < 3 {
            match eventloop.poll().await {
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    assert_eq!(p.topic, t);
                    got.insert(String::from_utf8_lossy(&p.payload).into_owned(), p.qos);
                }
                Ok(_) => {}
                Err(e) => panic!("rumqttc: {e}"),
            }
        }
    };
    tokio::time::timeout(WAIT, run)
        .await
        .expect("all three messages arrive");
    assert_eq!(
        got,
        BTreeMap::from([
            ("zero".to_owned(), QoS::AtMostOnce),
            ("one".to_owned(), QoS::AtLeastOnce),
            ("two".to_owned(), QoS::ExactlyOnce),
        ])
    );
    client.disconnect().await.ok();
    // Let the event loop send the DISCONNECT.
    let _ = tokio::time::timeout(Duration::from_millis(200), eventloop.poll()).await;
}

// 5.0 MQTT-4.3.1-1, MQTT-4.3.2-4, MQTT-4.3.3-8, MQTT-3.8.4-8: rumqttc's 5.0 client subscribes
// at QoS 2 and gets back its own QoS 0, 1 and 2 messages, each at its QoS.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rumqttc_v5_client_round_trips_qos_0_1_2() {
    use rumqttc::v5::mqttbytes::QoS;
    use rumqttc::v5::mqttbytes::v5::Packet;
    use rumqttc::v5::{AsyncClient, Event, MqttOptions};
    let b = broker().await;
    let t = topic("rumqttc5");
    let mut options = MqttOptions::new(
        client_id("rumqttc5"),
        b.addr.ip().to_string(),
        b.addr.port(),
    );
    options.set_keep_alive(Duration::from_secs(30));
    let (client, mut eventloop) = AsyncClient::new(options, 16);
    client
        .subscribe(t.as_str(), QoS::ExactlyOnce)
        .await
        .expect("subscribe queued");
    for (qos, payload) in [
        (QoS::AtMostOnce, "zero"),
        (QoS::AtLeastOnce, "one"),
        (QoS::ExactlyOnce, "two"),
    ] {
        client
            .publish(t.as_str(), qos, false, payload)
            .await
            .expect("publish queued");
    }
    let mut got = BTreeMap::new();
    let run = async {
        while got.len() < 3 {
            match eventloop.poll().await {
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    assert_eq!(p.topic.as_ref(), t.as_bytes());
                    got.insert(String::from_utf8_lossy(&p.payload).into_owned(), p.qos);
                }
                Ok(_) => {}
                Err(e) => panic!("rumqttc: {e}"),
            }
        }
    };
    tokio::time::timeout(WAIT, run)
        .await
        .expect("all three messages arrive");
    assert_eq!(
        got,
        BTreeMap::from([
            ("zero".to_owned(), QoS::AtMostOnce),
            ("one".to_owned(), QoS::AtLeastOnce),
            ("two".to_owned(), QoS::ExactlyOnce),
        ])
    );
    client.disconnect().await.ok();
    let _ = tokio::time::timeout(Duration::from_millis(200), eventloop.poll()).await;
}
