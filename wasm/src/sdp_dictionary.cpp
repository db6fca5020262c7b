// Preset deflate dictionaries for the SDP codec, versions 1 and 2. Written for pushpeer: the vocabulary of the SDP that
// Chromium and Firefox emit (session lines, ICE, DTLS, data channel, Opus/VP8/VP9/H.264/AV1 media sections).
// Values here are placeholders; the codec tokenises this text exactly as it tokenises an SDP, so the dictionary
// holds the same markers a packed skeleton does. Deflate reaches the last 32 KiB and codes nearer matches more
// cheaply, so the most common text (data-channel sessions) comes last.
//
// NEVER edit these texts: packed SDPs depend on them byte for byte. A new dictionary is a new version (see
// docs/PROTOCOL.md §2.3) and the old ones stay for decoding.
#include "sdp_dictionary.hpp"

namespace pushpeer::sdp::detail {

std::string_view dictionary_v1_text() {
  static constexpr std::string_view kText = R"SDP(a=ssrc-group:FID 1111111111 2222222222
a=ssrc:1111111111 cname:AbCdEfGhIjKlMnOp
a=ssrc:1111111111 msid:01234567-89ab-cdef-0123-456789abcdef 89abcdef-0123-4567-89ab-cdef01234567
a=ssrc:2222222222 cname:AbCdEfGhIjKlMnOp
a=ssrc:2222222222 msid:01234567-89ab-cdef-0123-456789abcdef 89abcdef-0123-4567-89ab-cdef01234567
a=rtpmap:118 red/90000
a=rtpmap:119 rtx/90000
a=fmtp:119 apt=118
a=rtpmap:120 ulpfec/90000
a=rtpmap:45 AV1/90000
a=rtcp-fb:45 goog-remb
a=rtcp-fb:45 transport-cc
a=rtcp-fb:45 ccm fir
a=rtcp-fb:45 nack
a=rtcp-fb:45 nack pli
a=fmtp:45 level-idx=5;profile=0;tier=0
a=rtpmap:46 rtx/90000
a=fmtp:46 apt=45
a=rtpmap:98 VP9/90000
a=rtcp-fb:98 goog-remb
a=rtcp-fb:98 transport-cc
a=rtcp-fb:98 ccm fir
a=rtcp-fb:98 nack
a=rtcp-fb:98 nack pli
a=fmtp:98 profile-id=0
a=rtpmap:99 rtx/90000
a=fmtp:99 apt=98
a=rtpmap:100 VP9/90000
a=fmtp:100 profile-id=2
a=rtpmap:101 rtx/90000
a=fmtp:101 apt=100
a=rtpmap:102 H264/90000
a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f
a=rtpmap:103 rtx/90000
a=fmtp:103 apt=102
a=rtpmap:104 H264/90000
a=fmtp:104 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42001f
a=rtpmap:107 rtx/90000
a=fmtp:107 apt=104
a=rtpmap:108 H264/90000
a=fmtp:108 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f
a=rtpmap:109 rtx/90000
a=fmtp:109 apt=108
a=rtpmap:112 H264/90000
a=fmtp:112 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f
a=rtpmap:113 rtx/90000
a=fmtp:113 apt=112
a=rtpmap:96 VP8/90000
a=rtcp-fb:96 goog-remb
a=rtcp-fb:96 transport-cc
a=rtcp-fb:96 ccm fir
a=rtcp-fb:96 nack
a=rtcp-fb:96 nack pli
a=rtpmap:97 rtx/90000
a=fmtp:97 apt=96
a=extmap:14 urn:ietf:params:rtp-hdrext:toffset
a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=extmap:13 urn:3gpp:video-orientation
a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01
a=extmap:5 http://www.webrtc.org/experiments/rtp-hdrext/playout-delay
a=extmap:6 http://www.webrtc.org/experiments/rtp-hdrext/video-content-type
a=extmap:7 http://www.webrtc.org/experiments/rtp-hdrext/video-timing
a=extmap:8 http://www.webrtc.org/experiments/rtp-hdrext/color-space
a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid
a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id
a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id
m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 104 107 108 109 112 113 45 46 98 99 100 101 118 119 120
a=rtpmap:109 opus/48000/2
a=fmtp:109 maxplaybackrate=48000;stereo=1;useinbandfec=1
a=rtpmap:9 G722/8000/1
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level
a=extmap:2/recvonly urn:ietf:params:rtp-hdrext:csrc-audio-level
a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:mid
a=rtcp-fb:120 nack
a=rtcp-fb:120 nack pli
a=rtcp-fb:120 ccm fir
a=rtcp-fb:120 goog-remb
a=rtcp-fb:120 transport-cc
a=rtcp-mux
a=rtcp-rsize
a=rtcp-xr:rcvr-rtt=all
a=rtpmap:111 opus/48000/2
a=rtcp-fb:111 transport-cc
a=fmtp:111 minptime=10;useinbandfec=1
a=rtpmap:63 red/48000/2
a=fmtp:63 111/111
a=rtpmap:9 G722/8000
a=rtpmap:13 CN/8000
a=rtpmap:110 telephone-event/48000
a=rtpmap:126 telephone-event/8000
a=sendonly
a=recvonly
a=inactive
a=msid:01234567-89ab-cdef-0123-456789abcdef 89abcdef-0123-4567-89ab-cdef01234567
a=msid-semantic: WMS 01234567-89ab-cdef-0123-456789abcdef
m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126
a=rtcp:9 IN IP4 0.0.0.0
a=group:BUNDLE 0 1 2
a=candidate:1 1 UDP 1686052863 198.51.100.7 40001 typ srflx raddr 192.0.2.1 rport 40001
a=candidate:2 1 UDP 92217087 203.0.113.9 50001 typ relay raddr 198.51.100.7 rport 40001
a=candidate:3333333333 1 udp 1685987071 198.51.100.7 40002 typ srflx raddr 192.0.2.1 rport 40002 generation 0 network-id 1 network-cost 10
a=candidate:4444444444 1 udp 41885439 203.0.113.9 50002 typ relay raddr 198.51.100.7 rport 40002 generation 0 network-id 1 network-cost 10
a=candidate:5555555555 1 udp 2122262783 01234567-89ab-cdef-0123-456789abcdef.local 40003 typ host generation 0 network-id 2 network-cost 10
a=candidate:0 1 UDP 2122252543 01234567-89ab-cdef-0123-456789abcdef.local 40004 typ host
a=candidate:1 2 UDP 2122252542 01234567-89ab-cdef-0123-456789abcdef.local 40005 typ host
v=0
o=mozilla...THIS_IS_SDPARTA-99.0 1234567890123456789 0 IN IP4 0.0.0.0
s=-
t=0 0
a=sendrecv
a=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF
a=group:BUNDLE 0
a=ice-options:trickle
a=msid-semantic:WMS *
m=application 40006 UDP/DTLS/SCTP webrtc-datachannel
c=IN IP4 192.0.2.1
a=candidate:0 1 UDP 2122187007 192.0.2.1 40006 typ host
a=candidate:1 1 UDP 2122252543 2001:db8::1 40007 typ host
a=sendrecv
a=end-of-candidates
a=ice-pwd:0123456789abcdef0123456789abcdef
a=ice-ufrag:89abcdef
a=mid:0
a=setup:active
a=sctp-port:5000
a=max-message-size:1073741823
v=0
o=mozilla...THIS_IS_SDPARTA-99.0 1234567890123456789 0 IN IP4 0.0.0.0
s=-
t=0 0
a=sendrecv
a=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF
a=group:BUNDLE 0
a=ice-options:trickle
a=msid-semantic:WMS *
m=application 40006 UDP/DTLS/SCTP webrtc-datachannel
c=IN IP4 192.0.2.1
a=candidate:0 1 UDP 2122187007 192.0.2.1 40006 typ host
a=candidate:1 1 UDP 2122252543 2001:db8::1 40007 typ host
a=candidate:2 1 TCP 2105458943 192.0.2.1 9 typ host tcptype active
a=candidate:3 1 TCP 2105524479 2001:db8::1 9 typ host tcptype active
a=sendrecv
a=end-of-candidates
a=ice-pwd:0123456789abcdef0123456789abcdef
a=ice-ufrag:89abcdef
a=mid:0
a=setup:actpass
a=sctp-port:5000
a=max-message-size:1073741823
v=0
o=- 1234567890123456789 2 IN IP4 127.0.0.1
s=-
t=0 0
a=group:BUNDLE 0
a=extmap-allow-mixed
a=msid-semantic: WMS
m=application 40008 UDP/DTLS/SCTP webrtc-datachannel
c=IN IP4 192.0.2.1
a=candidate:1234567890 1 udp 2122194687 192.0.2.1 40008 typ host generation 0 network-id 1
a=candidate:1234567891 1 udp 2122265343 2001:db8::1 40009 typ host generation 0 network-id 2
a=ice-ufrag:AbCd
a=ice-pwd:AbCdEfGhIjKlMnOpQrStUvWx
a=ice-options:trickle
a=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF
a=setup:active
a=mid:0
a=sctp-port:5000
a=max-message-size:262144
v=0
o=- 1234567890123456789 2 IN IP4 127.0.0.1
s=-
t=0 0
a=group:BUNDLE 0
a=extmap-allow-mixed
a=msid-semantic: WMS
m=application 40008 UDP/DTLS/SCTP webrtc-datachannel
c=IN IP4 192.0.2.1
a=candidate:1234567890 1 udp 2122194687 192.0.2.1 40008 typ host generation 0 network-id 1
a=candidate:1234567891 1 udp 2122265343 2001:db8::1 40009 typ host generation 0 network-id 2
a=candidate:1234567892 1 tcp 1518214911 192.0.2.1 9 typ host tcptype active generation 0 network-id 1
a=candidate:1234567893 1 tcp 1518285567 2001:db8::1 9 typ host tcptype active generation 0 network-id 2
a=ice-ufrag:AbCd
a=ice-pwd:AbCdEfGhIjKlMnOpQrStUvWx
a=ice-options:trickle
a=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF
a=setup:actpass
a=mid:0
a=sctp-port:5000
a=max-message-size:262144
)SDP";
  return kText;
}

// Version 2 (frozen like version 1): version 1, then four data-channel sessions with srflx and relay candidates.
// A TURN-using peer behind a NAT adds a server-reflexive candidate (the NAT's address, raddr/rport = its host
// candidate) and a relayed one (the TURN server's address; Chromium gives the mapped address as raddr, Firefox the
// relayed address itself; the relayed candidate is the default, in the m= and c= lines), with the priorities each
// browser gives them. The sessions are copies of version 1's last Firefox and Chromium sessions with those two lines
// after the four host candidates (the canonical order of kCandidateOrder): once behind a NAT, once with every
// address the host's (both peers on one machine).
// docs/PROTOCOL.md §2.3 gives the derivation rule by rule; tests/native/sdp_codec_test.cpp derives the text that
// way and compares. Stored as text rather than derived here: it repeats version 1, so it costs a few hundred bytes
// of the gzipped module, where the code to derive it cost 1.4 KB.
const std::string& dictionary_v2_text() {
  static const std::string text = std::string(dictionary_v1_text()) + R"SDP(v=0
o=mozilla...THIS_IS_SDPARTA-99.0 1234567890123456789 0 IN IP4 0.0.0.0
s=-
t=0 0
a=sendrecv
a=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF
a=group:BUNDLE 0
a=ice-options:trickle
a=msid-semantic:WMS *
m=application 40011 UDP/DTLS/SCTP webrtc-datachannel
c=IN IP4 203.0.113.9
a=candidate:0 1 UDP 2122187007 192.0.2.1 40006 typ host
a=candidate:3 1 UDP 2122252543 2001:db8::1 40007 typ host
a=candidate:4 1 TCP 2105458943 192.0.2.1 9 typ host tcptype active
a=candidate:5 1 TCP 2105524479 2001:db8::1 9 typ host tcptype active
a=candidate:1 1 UDP 1685987327 198.51.100.7 40010 typ srflx raddr 192.0.2.1 rport 40006
a=candidate:2 1 UDP 92151551 203.0.113.9 40011 typ relay raddr 203.0.113.9 rport 40011
a=sendrecv
a=end-of-candidates
a=ice-pwd:0123456789abcdef0123456789abcdef
a=ice-ufrag:89abcdef
a=mid:0
a=setup:actpass
a=sctp-port:5000
a=max-message-size:1073741823
v=0
o=- 1234567890123456789 2 IN IP4 127.0.0.1
s=-
t=0 0
a=group:BUNDLE 0
a=extmap-allow-mixed
a=msid-semantic: WMS
m=application 40011 UDP/DTLS/SCTP webrtc-datachannel
c=IN IP4 203.0.113.9
a=candidate:1234567890 1 udp 2122194687 192.0.2.1 40008 typ host generation 0 network-id 1
a=candidate:1234567891 1 udp 2122265343 2001:db8::1 40009 typ host generation 0 network-id 2
a=candidate:1234567892 1 tcp 1518214911 192.0.2.1 9 typ host tcptype active generation 0 network-id 1
a=candidate:1234567893 1 tcp 1518285567 2001:db8::1 9 typ host tcptype active generation 0 network-id 2
a=candidate:1234567894 1 udp 1685987071 198.51.100.7 40010 typ srflx raddr 192.0.2.1 rport 40008 generation 0 network-id 1
a=candidate:1234567895 1 udp 58597375 203.0.113.9 40011 typ relay raddr 198.51.100.7 rport 40010 generation 0 network-id 1
a=ice-ufrag:AbCd
a=ice-pwd:AbCdEfGhIjKlMnOpQrStUvWx
a=ice-options:trickle
a=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF
a=setup:actpass
a=mid:0
a=sctp-port:5000
a=max-message-size:262144
v=0
o=mozilla...THIS_IS_SDPARTA-99.0 1234567890123456789 0 IN IP4 0.0.0.0
s=-
t=0 0
a=sendrecv
a=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF
a=group:BUNDLE 0
a=ice-options:trickle
a=msid-semantic:WMS *
m=application 40011 UDP/DTLS/SCTP webrtc-datachannel
c=IN IP4 192.0.2.1
a=candidate:0 1 UDP 2122187007 192.0.2.1 40006 typ host
a=candidate:3 1 UDP 2122252543 2001:db8::1 40007 typ host
a=candidate:4 1 TCP 2105458943 192.0.2.1 9 typ host tcptype active
a=candidate:5 1 TCP 2105524479 2001:db8::1 9 typ host tcptype active
a=candidate:1 1 UDP 1685987327 192.0.2.1 40010 typ srflx raddr 192.0.2.1 rport 40006
a=candidate:2 1 UDP 92151551 192.0.2.1 40011 typ relay raddr 192.0.2.1 rport 40011
a=sendrecv
a=end-of-candidates
a=ice-pwd:0123456789abcdef0123456789abcdef
a=ice-ufrag:89abcdef
a=mid:0
a=setup:actpass
a=sctp-port:5000
a=max-message-size:1073741823
v=0
o=- 1234567890123456789 2 IN IP4 127.0.0.1
s=-
t=0 0
a=group:BUNDLE 0
a=extmap-allow-mixed
a=msid-semantic: WMS
m=application 40011 UDP/DTLS/SCTP webrtc-datachannel
c=IN IP4 192.0.2.1
a=candidate:1234567890 1 udp 2122194687 192.0.2.1 40008 typ host generation 0 network-id 1
a=candidate:1234567891 1 udp 2122265343 2001:db8::1 40009 typ host generation 0 network-id 2
a=candidate:1234567892 1 tcp 1518214911 192.0.2.1 9 typ host tcptype active generation 0 network-id 1
a=candidate:1234567893 1 tcp 1518285567 2001:db8::1 9 typ host tcptype active generation 0 network-id 2
a=candidate:1234567894 1 udp 1685987071 192.0.2.1 40010 typ srflx raddr 192.0.2.1 rport 40008 generation 0 network-id 1
a=candidate:1234567895 1 udp 58597375 192.0.2.1 40011 typ relay raddr 192.0.2.1 rport 40010 generation 0 network-id 1
a=ice-ufrag:AbCd
a=ice-pwd:AbCdEfGhIjKlMnOpQrStUvWx
a=ice-options:trickle
a=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF
a=setup:actpass
a=mid:0
a=sctp-port:5000
a=max-message-size:262144
)SDP";
  return text;
}

}  // namespace pushpeer::sdp::detail
